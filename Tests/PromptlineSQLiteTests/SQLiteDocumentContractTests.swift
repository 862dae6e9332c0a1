import Foundation
import GRDB
import Logging
import PromptlineCore
@testable import PromptlineSQLite
import PromptlineStoreContract
import Testing

/// The document contract, run against the embedded SQLite store, one fresh data directory
/// per case; and what only this store does with documents.
@Suite struct SQLiteDocumentContractTests {
    @Test(.timeLimit(.minutes(1)), arguments: DocumentContract.cases)
    func contract(_ contractCase: DocumentContract.Case) async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await contractCase.run(
            { try await Self.open(directory) },
            close: { store in try await #require(store as? SQLiteTaskStore).close() }
        )
    }

    /// Documents outlive the process, and a data file made before there were documents
    /// opens with its tasks and gains the table.
    @Test func documentsSurviveReopening() async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let older = try await Self.open(directory)
        let task = NewTask(request: ChatRequest(model: "m", messages: [ChatMessage(role: "user", content: "hi")], maxTokens: 1, temperature: 0))
        _ = try await older.enqueue([task], idempotencyKey: nil)
        try await older.database.write { db in try db.execute(sql: "DROP TABLE documents") }
        try await older.close()

        let first = try await Self.open(directory)
        #expect(try await first.tasks(ids: [task.id])[task.id]?.status == .queued)
        #expect(try await first.insertDocument(collection: "files", id: "kept", body: Data([0, 1, 2]), ttl: .seconds(60)))
        try await first.close()

        let second = try await Self.open(directory)
        let kept = try await second.document(collection: "files", id: "kept")
        try await second.close()
        #expect(kept?.body == Data([0, 1, 2]))
        #expect(kept?.version == 1)
    }

    /// `purgeExpired` also deletes expired documents, but counts only the tasks it purged.
    @Test func purgeDeletesExpiredDocuments() async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await Self.open(directory)
        #expect(try await store.insertDocument(collection: "files", id: "short", body: Data("x".utf8), ttl: .milliseconds(50)))
        #expect(try await store.insertDocument(collection: "files", id: "long", body: Data("y".utf8), ttl: .seconds(60)))
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await store.purgeExpired() == 0)
        let rows = try await store.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM documents") }
        try await store.close()
        #expect(rows == 1)
    }

    static func scratchDirectory() -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("promptline-documents-\(UUID().uuidString.lowercased())").path
    }

    static func open(_ directory: String) async throws -> SQLiteTaskStore {
        try await SQLiteTaskStore.open(SQLiteTaskStore.Configuration(directory: directory), logger: Logger(label: "test"))
    }
}
