import Foundation
import PromptlineCore

extension StoreContract {
    /// A task asking one user prompt of a test model.
    static func newTask(_ prompt: String, priority: Int = 0, metadata: [String: String] = [:]) -> NewTask {
        NewTask(
            request: ChatRequest(
                model: "contract-model",
                messages: [ChatMessage(role: "user", content: prompt)],
                maxTokens: 100,
                temperature: 0.7
            ),
            priority: priority,
            metadata: metadata
        )
    }

    /// Enqueues a batch that must be stored anew, and answers its ids.
    static func enqueue(
        _ tasks: [NewTask], into store: any TaskStore, idempotencyKey: String? = nil,
        file: String = #fileID, line: Int = #line
    ) async throws -> [String] {
        let outcome = try await store.enqueue(tasks, idempotencyKey: idempotencyKey)
        try checkEqual(outcome, .stored(tasks.map(\.id)), "enqueue of \(tasks.count) new task(s)", file: file, line: line)
        return outcome.ids
    }

    /// Reads one task that must be readable.
    static func record(
        _ id: String, in store: any TaskStore, file: String = #fileID, line: Int = #line
    ) async throws -> TaskRecord {
        try unwrap(try await store.tasks(ids: [id])[id], "task \(id) should be readable but is absent", file: file, line: line)
    }

    /// Claims exactly one task.
    static func claimOne(
        from store: any TaskStore, lease: Duration = .seconds(60), file: String = #fileID, line: Int = #line
    ) async throws -> ClaimedTask {
        let claimed = try await store.claim(limit: 1, lease: lease)
        try checkEqual(claimed.count, 1, "number of tasks claimed with limit 1", file: file, line: line)
        return claimed[0]
    }

    /// Runs `operation`, failing the case if it has not returned within `bound`.
    ///
    /// Only a guard against a hang; it asserts nothing about how fast the store is.
    static func within(
        _ bound: Duration, _ what: String, file: String = #fileID, line: Int = #line,
        _ operation: @escaping @Sendable () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await operation()
                return true
            }
            group.addTask {
                try await Task.sleep(for: bound)
                return false
            }
            let finished = try await group.next() ?? false
            group.cancelAll()
            try check(finished, "\(what) did not return within \(bound)", file: file, line: line)
        }
    }
}
