import Foundation
import Logging
import PromptlineCore
import PromptlineRedis
import PromptlineStoreContract
import RedisClient
import Testing

/// The document contract, run against a real Redis (``TestRedis``), one key prefix per
/// case; and what only this store does with documents.
@Suite struct RedisDocumentContractTests {
    @Test(.timeLimit(.minutes(1)), arguments: DocumentContract.cases)
    func contract(_ contractCase: DocumentContract.Case) async throws {
        try await contractCase.run({ try await Self.open() }, close: { try await Self.discard(#require($0 as? RedisTaskStore)) })
    }

    /// A listing drops the index entries of expired documents, and an insert those among
    /// the collection's oldest, so that the index does not keep them for ever.
    @Test func expiredIndexEntriesAreDropped() async throws {
        let store = try await Self.open()
        do {
            try await Self.checkIndexPruning(store)
        } catch {
            try? await Self.discard(store)
            throw error
        }
        try await Self.discard(store)
    }

    static func checkIndexPruning(_ store: RedisTaskStore) async throws {
        func indexed(_ collection: String) async throws -> [String] {
            let reply = try await store.pool.send(RawCommand("ZRANGE", store.configuration.keyPrefix + "docs:" + collection, "0", "-1"))
            return reply.elements?.compactMap(\.string) ?? []
        }
        for id in ["a", "b", "c"] {
            #expect(try await store.insertDocument(collection: "files", id: id, body: Data(id.utf8), ttl: .milliseconds(50)))
        }
        #expect(try await store.insertDocument(collection: "other", id: "x", body: Data(), ttl: .milliseconds(50)))
        try await Task.sleep(for: .milliseconds(200))
        // Inserts may already have dropped the first ones; nothing drops the last but a listing.
        #expect(try await indexed("files").contains("c"))
        #expect(try await store.documents(collection: "files", after: nil, limit: 10).isEmpty)
        #expect(try await indexed("files") == [])

        #expect(try await indexed("other") == ["x"])
        #expect(try await store.insertDocument(collection: "other", id: "y", body: Data(), ttl: .seconds(60)))
        #expect(try await indexed("other") == ["y"])
    }

    /// A store with a key prefix of its own.
    @Sendable static func open() async throws -> RedisTaskStore {
        try await RedisTaskStore.open(
            RedisTaskStore.Configuration(redis: TestRedis.configuration(), keyPrefix: "documents-\(UUID().uuidString.lowercased()):"),
            logger: Logger(label: "test")
        )
    }

    /// Deletes the store's keys and closes it.
    @Sendable static func discard(_ store: RedisTaskStore) async throws {
        try await TestRedis.deleteKeys(prefix: store.configuration.keyPrefix, pool: store.pool)
        await store.close()
    }
}
