import Foundation
import PromptlineCore

extension StoreContract {
    static func countsReflectEachState(_ stores: Stores) async throws {
        let store = try await stores.open()
        try checkEqual(try await store.counts(), QueueCounts(), "counts of an empty store")
        let ids = try await enqueue((0..<6).map { newTask("task \($0)", priority: 6 - $0) }, into: store)
        try checkEqual(try await store.counts(), QueueCounts(queued: 6), "counts after enqueueing 6")

        let claimed = try await store.claim(limit: 3, lease: .seconds(60))
        try checkEqual(claimed.count, 3, "tasks claimed")
        try checkEqual(try await store.counts(), QueueCounts(queued: 3, processing: 3), "counts after claiming 3")

        try check(try await store.complete(claimed[0].lease, result: TaskResult(content: "ok")), "complete answered false")
        try checkEqual(try await store.counts(), QueueCounts(queued: 3, processing: 2, completed: 1), "counts after one complete")
        try check(try await store.fail(claimed[1].lease, error: "boom"), "fail answered false")
        try checkEqual(try await store.counts(), QueueCounts(queued: 3, processing: 1, completed: 1, error: 1), "counts after one fail")
        try checkEqual(try await store.cancel(id: ids[5]), .cancelled, "cancel of a queued task")
        try checkEqual(try await store.counts(), QueueCounts(queued: 2, processing: 1, completed: 1, error: 1, cancelled: 1), "counts after one cancel")
        try check(try await store.retry(claimed[2].lease, after: .seconds(60), error: "later"), "retry answered false")
        try checkEqual(try await store.counts(), QueueCounts(queued: 3, completed: 1, error: 1, cancelled: 1), "counts after a retry (a delayed task counts as queued)")
    }
}
