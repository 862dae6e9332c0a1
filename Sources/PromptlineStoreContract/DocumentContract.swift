import Foundation
import PromptlineCore

/// The contract every ``DocumentStore`` must honour, run the way ``StoreContract`` is:
///
/// ```swift
/// @Test(arguments: DocumentContract.cases)
/// func documents(_ contractCase: DocumentContract.Case) async throws {
///     try await contractCase.run({ try await MyStore.open(…) },
///                                close: { store in try await (store as! MyStore).close() })
/// }
/// ```
///
/// Each case gets one fresh, empty store, which the runner closes once the case is over,
/// whether it passed or not. Cases that check expiry take a second or two.
package enum DocumentContract {
    /// Makes a fresh, empty store.
    package typealias Factory = @Sendable () async throws -> any DocumentStore

    /// Closes a store the factory made.
    package typealias Closer = @Sendable (any DocumentStore) async throws -> Void

    /// One behaviour of the contract, checked against a fresh store.
    package struct Case: Sendable, CustomStringConvertible {
        package let name: String
        let check: @Sendable (any DocumentStore) async throws -> Void

        package var description: String { name }

        /// Runs the case against a store made by `factory`, then closes it with `close`.
        /// Throws a ``ContractFailure`` when the store breaks the contract.
        package func run(_ factory: Factory, close: Closer = { _ in }) async throws {
            let store = try await factory()
            do {
                try await check(store)
            } catch {
                try? await close(store)
                throw error
            }
            try await close(store)
        }
    }

    /// Every case of the contract.
    package static let cases: [Case] = [
        Case(name: "insert then read back", check: insertThenReadBack),
        Case(name: "insert of an existing id changes nothing", check: insertOfExistingIdChangesNothing),
        Case(name: "replace at the current version", check: replaceAtCurrentVersion),
        Case(name: "replace at a stale version changes nothing", check: replaceAtStaleVersionChangesNothing),
        Case(name: "replace keeps the expiry unless given a ttl", check: replaceKeepsExpiryUnlessGivenTTL),
        Case(name: "expired documents are absent", check: expiredDocumentsAreAbsent),
        Case(name: "delete", check: delete),
        Case(name: "listing is newest first, paged", check: listingIsNewestFirstPaged),
        Case(name: "collections are separate", check: collectionsAreSeparate),
    ]

    // MARK: - Fixtures

    /// How long a document lives when a case does not wait for it to expire.
    static let longTTL = Duration.seconds(3_600)

    /// The UTF-8 bytes of `text`.
    static func bytes(_ text: String) -> Data {
        Data(text.utf8)
    }

    /// About 1 KiB a block, each its number then every byte value: no two blocks alike.
    static func numberedBlocks(count: Int) -> Data {
        let block = Data((0...255).map { UInt8($0) } + (0..<764).map { UInt8(truncatingIfNeeded: $0 &* 151) })
        var data = Data(capacity: count * (block.count + 4))
        for number in 0..<UInt32(count) {
            withUnsafeBytes(of: number.bigEndian) { data.append(contentsOf: $0) }
            data.append(block)
        }
        return data
    }

    /// Inserts a document that must be stored anew.
    static func insert(
        _ id: String, _ body: Data, into store: any DocumentStore, collection: String = "files",
        ttl: Duration = longTTL, file: String = #fileID, line: Int = #line
    ) async throws {
        let inserted = try await store.insertDocument(collection: collection, id: id, body: body, ttl: ttl)
        try check(inserted, "insert of new document \(collection)/\(id) answered false", file: file, line: line)
    }

    /// Reads a document that must be there.
    static func read(
        _ id: String, in store: any DocumentStore, collection: String = "files",
        file: String = #fileID, line: Int = #line
    ) async throws -> StoredDocument {
        try unwrap(
            try await store.document(collection: collection, id: id),
            "document \(collection)/\(id) should be readable but is absent", file: file, line: line
        )
    }

    /// Checks that a document is absent.
    static func checkAbsent(
        _ id: String, in store: any DocumentStore, collection: String = "files", _ when: String,
        file: String = #fileID, line: Int = #line
    ) async throws {
        let found = try await store.document(collection: collection, id: id)
        try check(found == nil, "document \(collection)/\(id) \(when) should be absent, read version \(found?.version ?? 0)", file: file, line: line)
    }

    /// The ids a listing answers.
    static func listed(
        _ store: any DocumentStore, collection: String = "files", after: String? = nil, limit: Int = 100
    ) async throws -> [String] {
        try await store.documents(collection: collection, after: after, limit: limit).map(\.id)
    }
}
