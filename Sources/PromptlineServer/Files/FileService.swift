import Foundation
import PromptlineCore

/// Files as OpenAI's Files API has them: batch input and result files, and documents
/// (`user_data`, `assistants`). A file's record (``FileObject``) and its bytes are two
/// documents of the ``DocumentStore`` under the same id, so they are shared by every
/// instance that shares the store and expire with the result TTL.
package struct FileService: Sendable {
    let documents: any DocumentStore
    /// How long a file stays readable.
    let retention: Duration

    /// The collections files are kept in.
    enum Collections {
        static let records = "files"
        static let contents = "file-contents"
        /// A document's text, extracted once and kept with it.
        static let texts = "file-texts"
    }

    /// The purposes an upload may have; result files are `batch_output` and `batch_error`.
    static let uploadPurposes = ["batch", "user_data", "assistants"]
    static let listedPurposes = uploadPurposes + ["batch_output", "batch_error"]

    /// Stores a file under a new id.
    func store(
        _ data: Data, filename: String, purpose: String, owner: String?, lines: Int? = nil, format: String? = nil
    ) async throws -> FileObject {
        let now = Date()
        let file = FileObject(
            id: "file-" + BatchService.randomHex(), bytes: data.count, createdAt: now.unixSeconds,
            expiresAt: (now + retention.seconds).unixSeconds, filename: filename, purpose: purpose, lines: lines,
            format: format, owner: owner
        )
        try await store(file, content: data)
        return file
    }

    /// Stores a file whose record is made: the content first, so a file whose record
    /// exists always has its bytes.
    func store(_ file: FileObject, content: Data) async throws {
        _ = try await documents.insertDocument(collection: Collections.contents, id: file.id, body: content, ttl: retention)
        _ = try await documents.insertDocument(collection: Collections.records, id: file.id, body: try BatchService.encode(file), ttl: retention)
    }

    /// A stored file's record; `nil` when unknown or expired.
    func file(_ id: String) async throws -> FileObject? {
        guard let stored = try await documents.document(collection: Collections.records, id: id) else { return nil }
        return try JSONDecoder().decode(FileObject.self, from: stored.body)
    }

    /// A stored file's bytes.
    func content(_ id: String) async throws -> Data? {
        try await documents.document(collection: Collections.contents, id: id)?.body
    }

    /// Deletes a file: its record first, so that no reader finds a record without its bytes,
    /// then its bytes and the text extracted from it.
    func delete(_ id: String) async throws -> Bool {
        let existed = try await documents.deleteDocument(collection: Collections.records, id: id)
        _ = try await documents.deleteDocument(collection: Collections.contents, id: id)
        _ = try await documents.deleteDocument(collection: Collections.texts, id: id)
        return existed
    }

    /// The text extracted from a document, when it has been.
    func text(_ id: String) async throws -> String? {
        try await documents.document(collection: Collections.texts, id: id).map { String(decoding: $0.body, as: UTF8.self) }
    }

    /// Keeps the text extracted from a document, for as long as files are kept.
    func keep(text: String, of id: String) async throws {
        _ = try await documents.insertDocument(collection: Collections.texts, id: id, body: Data(text.utf8), ttl: retention)
    }

    /// One page of the files `visible` accepts the owner of, of one purpose or all.
    func list(
        purpose: String?, after: String?, limit: Int, ascending: Bool, visible: (String?) -> Bool
    ) async throws -> FileList {
        try await FileList.reading(
            Collections.records, of: documents, after: after, limit: limit, ascending: ascending, id: \.id,
            decode: { try JSONDecoder().decode(FileObject.self, from: $0) },
            keep: { visible($0.owner) && (purpose == nil || $0.purpose == purpose) }
        )
    }
}
