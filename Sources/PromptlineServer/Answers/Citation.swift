import Foundation
import PromptlineCore

/// A source an answer was given from: the chunk as retrieved, numbered as in the prompt.
struct Citation: Codable, Sendable, Hashable {
    var index: Int
    var fileID: String
    var filename: String
    var score: Float
    var text: String

    enum CodingKeys: String, CodingKey {
        case index, filename, score, text
        case fileID = "file_id"
    }

    /// Where the citations of a grounded task are kept, by task id, for its detail to show.
    static let collection = "citations"
}

/// The body of `POST /api/answers`.
struct AnswerRequest: Decodable, Sendable {
    var question: String
    var vectorStoreIDs: [String]
    var model: String?
    var maxNumResults: Int?
    var maxTokens: Int?
    var temperature: Double?
    var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case question, model, temperature, stream
        case vectorStoreIDs = "vector_store_ids"
        case maxNumResults = "max_num_results"
        case maxTokens = "max_tokens"
    }
}

/// The answer of `POST /api/answers`.
struct AnswerResponse: Encodable, Sendable {
    var answer: String
    var citations: [Citation]
    var usage: TokenUsage?
    var model: String?
}
