import Foundation
import PromptlineCore

/// The body of `POST /api/summaries`: documents (uploaded files) and texts, summarised as one.
struct SummaryRequest: Decodable, Sendable {
    var fileIDs: [String]?
    var texts: [String]?
    var instructions: String?
    var model: String?
    var maxTokens: Int?
    var temperature: Double?
    var chunkTokens: Int?
    var maxParallel: Int?
    var onChunkError: String?
    var priority: Int?
    var idempotencyKey: String?
    var webhookURL: String?

    enum CodingKeys: String, CodingKey {
        case texts, instructions, model, temperature, priority
        case fileIDs = "file_ids"
        case maxTokens = "max_tokens"
        case chunkTokens = "chunk_tokens"
        case maxParallel = "max_parallel"
        case onChunkError = "on_chunk_error"
        case idempotencyKey = "idempotency_key"
        case webhookURL = "webhook_url"
    }

    /// At most this many documents and texts in one summary.
    static let maxDocuments = 1_000
    static let chunkTokensRange = 100...100_000
    static let maxParallelRange = 1...256
}

/// A summary as stored: what was asked, so that every step on any instance can read it.
struct SummaryRecord: Codable, Sendable {
    /// One document of the summary: an uploaded file, or an entry of `texts`.
    struct Document: Codable, Sendable {
        var fileID: String?
        /// Its place in `texts`.
        var index: Int?
        var filename: String?

        enum CodingKeys: String, CodingKey {
            case index, filename
            case fileID = "file_id"
        }

        /// How messages name it.
        var name: String { filename ?? fileID ?? "texts[\(index ?? 0)]" }
    }

    var id: String
    var owner: String?
    var createdAt: Int
    var documents: [Document]
    var texts: [String]
    var instructions: String?
    var model: String
    var maxTokens: Int
    var temperature: Double
    var chunkTokens: Int
    var maxParallel: Int
    /// `fail` or `skip`.
    var onChunkError: String
    var priority: Int

    enum CodingKeys: String, CodingKey {
        case id, owner, documents, texts, instructions, model, temperature, priority
        case createdAt = "created_at"
        case maxTokens = "max_tokens"
        case chunkTokens = "chunk_tokens"
        case maxParallel = "max_parallel"
        case onChunkError = "on_chunk_error"
    }

    /// How many documents run at once, and how many chunk calls each: together never more
    /// than `maxParallel` calls of this summary in flight.
    var documentWindow: Int { min(documents.count, maxParallel) }
    var chunkWindow: Int { max(1, maxParallel / max(documentWindow, 1)) }
}
