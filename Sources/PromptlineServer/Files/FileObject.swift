import Foundation

/// An uploaded file, or a batch's output or error file, in OpenAI's shape; stored by
/// ``FileService``.
struct FileObject: Codable, Sendable, Equatable {
    var id: String
    var object = "file"
    var bytes: Int
    var createdAt: Int
    var expiresAt: Int?
    var filename: String
    var purpose: String
    var status = "processed"
    /// How many requests the file holds (Promptline's own field).
    var lines: Int?
    /// A document's format as found on upload: `pdf`, `text`, `markdown` or `html`
    /// (Promptline's own field).
    var format: String?
    /// The API key that uploaded the file (Promptline's own field, absent on an open server).
    var owner: String?

    enum CodingKeys: String, CodingKey {
        case id, object, bytes, filename, purpose, status, lines, format, owner
        case createdAt = "created_at"
        case expiresAt = "expires_at"
    }
}

/// `GET /v1/files`.
typealias FileList = ListPage<FileObject>

/// `DELETE /v1/files/{id}`.
struct DeletedFile: Encodable {
    var id: String
    var object = "file"
    var deleted = true
}
