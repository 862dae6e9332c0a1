import Foundation

/// A record kept beside the tasks: an uploaded file, a batch. Its body is opaque bytes
/// (JSON, or a file's content); its version counts the replacements since it was made.
package struct StoredDocument: Sendable, Hashable {
    /// What kind of record it is ("files", "batches", …); ids are unique within a collection.
    package var collection: String
    package var id: String
    package var body: Data
    /// 1 when inserted, one more on every replacement.
    package var version: Int
    package var createdAt: Date

    package init(collection: String, id: String, body: Data, version: Int, createdAt: Date) {
        self.collection = collection
        self.id = id
        self.body = body
        self.version = version
        self.createdAt = createdAt
    }
}

/// A store's second power: small records with an expiry, shared by every instance that
/// shares the store. The Batch API keeps its files and batches here.
///
/// A replacement names the version it read, so two instances that change the same record
/// at once cannot lose each other's change: the second one is told, reads again and
/// decides again.
package protocol DocumentStore: Sendable {
    /// Stores a new document (version 1) that expires `ttl` from now. Answers `false`, and
    /// changes nothing, when the collection already holds that id.
    func insertDocument(collection: String, id: String, body: Data, ttl: Duration) async throws -> Bool

    /// One document; `nil` when unknown or expired.
    func document(collection: String, id: String) async throws -> StoredDocument?

    /// Replaces the body of a document whose version is still `version`, keeping its expiry
    /// unless `ttl` gives a new one (from now). Answers the document as stored now, or `nil`
    /// when it is gone or its version has moved on.
    func replaceDocument(
        collection: String, id: String, body: Data, ifVersion version: Int, ttl: Duration?
    ) async throws -> StoredDocument?

    /// Deletes a document; answers whether it was there.
    func deleteDocument(collection: String, id: String) async throws -> Bool

    /// The documents of a collection, newest first, starting after the one with id `after`
    /// (all of them when `after` is `nil` or unknown), at most `limit`. Expired ones are left out.
    func documents(collection: String, after: String?, limit: Int) async throws -> [StoredDocument]
}
