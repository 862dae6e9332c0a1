import Foundation
import PromptlineCore

extension DocumentContract {
    static func insertThenReadBack(_ store: any DocumentStore) async throws {
        // A NUL, bytes that are not UTF-8, CR LF and multi-byte characters.
        let small = Data([0x7B, 0x00, 0x22, 0xFF, 0xFE, 0x0D, 0x0A]) + bytes("é🚀")
        let large = numberedBlocks(count: 4_900)
        let before = Date()
        try await insert("small", small, into: store)
        try await insert("large", large, into: store)
        try await insert("empty", Data(), into: store)
        let after = Date()

        let stored = try await read("small", in: store)
        try checkEqual(stored.body, small, "body read back")
        try checkEqual(stored.version, 1, "version of a new document")
        try checkEqual(stored.collection, "files", "collection read back")
        try checkEqual(stored.id, "small", "id read back")
        // The store's clock (Redis's, say) may be a little off this one.
        try check(
            stored.createdAt > before - 5 && stored.createdAt < after + 5,
            "createdAt \(stored.createdAt) is not between \(before) and \(after) (±5 s)"
        )
        let largeBody = try await read("large", in: store).body
        try check(largeBody == large, "a 5 MB body came back as \(largeBody.count) bytes that differ from those written")
        try checkEqual(try await read("empty", in: store).body, Data(), "an empty body read back")
        try await checkAbsent("unknown", in: store, "never inserted")
    }

    static func insertOfExistingIdChangesNothing(_ store: any DocumentStore) async throws {
        try await insert("a", bytes("first"), into: store)
        let original = try await read("a", in: store)
        let again = try await store.insertDocument(collection: "files", id: "a", body: bytes("second"), ttl: longTTL)
        try check(!again, "a second insert of an id answered true")
        try checkEqual(try await read("a", in: store), original, "document after a second insert of its id")

        try await replace("a", with: bytes("replaced"), ifVersion: 1, in: store)
        let onceMore = try await store.insertDocument(collection: "files", id: "a", body: bytes("third"), ttl: longTTL)
        try check(!onceMore, "an insert of a replaced document's id answered true")
        let replaced = try await read("a", in: store)
        try checkEqual(replaced.body, bytes("replaced"), "body after an insert of a replaced document's id")
        try checkEqual(replaced.version, 2, "version after an insert of a replaced document's id")
        try checkEqual(try await listed(store), ["a"], "listing after three inserts of one id")

        // A refused insert does not give the document its longer ttl.
        let start = ContinuousClock.now
        try await insert("short", bytes("short"), into: store, ttl: .milliseconds(500))
        let inserted = ContinuousClock.now
        let longer = try await store.insertDocument(collection: "files", id: "short", body: bytes("long"), ttl: longTTL)
        if ContinuousClock.now < start + .milliseconds(450) {
            try check(!longer, "a second insert of a live short-lived document answered true")
            try await waitOut(.milliseconds(500), from: inserted)
            try await checkAbsent("short", in: store, "once its 500 ms ttl ran out, after a refused insert with 1 h")
        }
    }

    static func replaceAtCurrentVersion(_ store: any DocumentStore) async throws {
        try await insert("a", bytes("v1"), into: store)
        let original = try await read("a", in: store)
        let second = try await replace("a", with: bytes("v2"), ifVersion: 1, in: store)
        try checkEqual(
            second.createdAt.timeIntervalSince1970, original.createdAt.timeIntervalSince1970, "createdAt a replace answered"
        )
        try checkEqual(
            second, StoredDocument(collection: "files", id: "a", body: bytes("v2"), version: 2, createdAt: original.createdAt),
            "what a replace at the current version answered"
        )
        try checkEqual(try await read("a", in: store), second, "document read after the replace")

        let binary = Data([0x00, 0x01, 0x00, 0xFF])
        let third = try await replace("a", with: binary, ifVersion: 2, ttl: longTTL, in: store)
        try checkEqual(third.version, 3, "version after a second replace")
        let stored = try await read("a", in: store)
        try checkEqual(stored.body, binary, "body after a second replace")
        try checkEqual(stored.version, 3, "version read after a second replace")
        try checkEqual(stored.createdAt, original.createdAt, "createdAt after two replaces")
    }

    static func replaceAtStaleVersionChangesNothing(_ store: any DocumentStore) async throws {
        try await insert("a", bytes("v1"), into: store)
        try await replace("a", with: bytes("v2"), ifVersion: 1, in: store)
        let current = try await read("a", in: store)
        for stale in [1, 3, 0] {
            let answer = try await store.replaceDocument(
                collection: "files", id: "a", body: bytes("lost"), ifVersion: stale, ttl: .seconds(1)
            )
            try check(answer == nil, "a replace at version \(stale) of a document at version 2 answered version \(answer?.version ?? 0)")
        }
        try checkEqual(try await read("a", in: store), current, "document after replaces at other versions")

        let unknown = try await store.replaceDocument(collection: "files", id: "unknown", body: bytes("x"), ifVersion: 1, ttl: nil)
        try check(unknown == nil, "a replace of an unknown document answered version \(unknown?.version ?? 0)")
        try await checkAbsent("unknown", in: store, "after a replace of it")
    }

    static func delete(_ store: any DocumentStore) async throws {
        try await insert("a", bytes("a"), into: store)
        try await insert("b", bytes("b"), into: store)
        try await insert("a", bytes("a batch"), into: store, collection: "batches")

        try check(try await store.deleteDocument(collection: "files", id: "a"), "delete of a stored document answered false")
        try await checkAbsent("a", in: store, "after its delete")
        try check(!(try await store.deleteDocument(collection: "files", id: "a")), "a second delete answered true")
        try check(!(try await store.deleteDocument(collection: "files", id: "unknown")), "delete of an unknown document answered true")
        try checkEqual(try await listed(store), ["b"], "listing after a delete")
        try checkEqual(try await read("a", in: store, collection: "batches").body, bytes("a batch"), "same id in another collection after the delete")
        let replaced = try await store.replaceDocument(collection: "files", id: "a", body: bytes("x"), ifVersion: 1, ttl: nil)
        try check(replaced == nil, "a replace of a deleted document answered version \(replaced?.version ?? 0)")

        try await insert("a", bytes("again"), into: store)
        let again = try await read("a", in: store)
        try checkEqual(again.version, 1, "version of a deleted id inserted again")
        try checkEqual(again.body, bytes("again"), "body of a deleted id inserted again")
        try checkEqual(Set(try await listed(store)), ["a", "b"], "listing after a deleted id is inserted again")
    }

    /// Replaces a document that must be at `version`; answers what the store answered.
    @discardableResult
    static func replace(
        _ id: String, with body: Data, ifVersion version: Int, ttl: Duration? = nil, in store: any DocumentStore,
        collection: String = "files", file: String = #fileID, line: Int = #line
    ) async throws -> StoredDocument {
        try unwrap(
            try await store.replaceDocument(collection: collection, id: id, body: body, ifVersion: version, ttl: ttl),
            "a replace of \(collection)/\(id) at its current version \(version) answered nil", file: file, line: line
        )
    }
}
