import Foundation
import NIOCore

/// The summaries of `promptline summarize`: documents uploaded to `/v1/files`, a summary
/// asked for and followed on `/api/summaries`.
extension TaskClient {
    /// Uploads a document (`purpose=user_data`); answers its file id. The content type
    /// follows the file name's extension; the server checks it against the bytes.
    package func uploadDocument(_ data: Data, filename: String) async throws(TaskClientError) -> String {
        let boundary = "promptline-" + UUID().uuidString
        var body = ByteBuffer()
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nuser_data\r\n")
        let quoted = filename.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(quoted)\"\r\n")
        body.writeString("Content-Type: \(Self.contentType(of: filename))\r\n\r\n")
        body.writeBytes(data)
        body.writeString("\r\n--\(boundary)--\r\n")
        let answer = try await send(.POST, "/v1/files", body: body, contentType: "multipart/form-data; boundary=\(boundary)")
        return try decode(UploadedFile.self, from: answer).id
    }

    /// `POST /api/summaries` with `body` (JSON); answers the summary's id.
    package func createSummary(body: Data) async throws(TaskClientError) -> String {
        let answer = try await send(.POST, "/api/summaries", body: ByteBuffer(bytes: body), contentType: "application/json")
        return try decode(CreatedSummary.self, from: answer).summaryID
    }

    /// `GET /api/summaries/{id}`: where it stands, and the JSON the server answered.
    package func summary(id: String) async throws(TaskClientError) -> (status: SummaryStatus, json: Data) {
        let data = try await send(.GET, "/api/summaries/\(Self.escaped(id))")
        return (try decode(SummaryStatus.self, from: data), data)
    }

    static func contentType(of filename: String) -> String {
        switch filename.split(separator: ".").last?.lowercased() {
        case "pdf": "application/pdf"
        case "md", "markdown": "text/markdown"
        case "html", "htm": "text/html"
        case "txt", "text": "text/plain"
        default: "application/octet-stream"
        }
    }

    private struct UploadedFile: Decodable {
        var id: String
    }

    private struct CreatedSummary: Decodable {
        var summaryID: String

        enum CodingKeys: String, CodingKey {
            case summaryID = "summary_id"
        }
    }
}

/// What `promptline summarize --wait` follows of a summary.
package struct SummaryStatus: Decodable, Sendable {
    package struct Chunks: Decodable, Sendable {
        package var total: Int
        package var completed: Int
        package var failed: Int
        package var skipped: Int
    }

    package var status: String
    package var progress: String
    package var summary: String?
    package var error: String?
    package var chunks: Chunks

    package var isFinished: Bool { ["completed", "error", "cancelled"].contains(status) }
}
