import PromptlineKnowledge

/// The bodies of the Vector Stores API's requests, as the official SDKs send them.
enum VectorStoreRequests {
    /// `chunking_strategy`: `{"type": "auto"}` or `{"type": "static", "static": {…}}`.
    struct ChunkingStrategy: Decodable, Sendable {
        var type: String
        var `static`: VectorStoreRecord.Chunking?

        /// The strategy as stored, or a 400 naming what is wrong.
        func resolved() throws -> VectorStoreRecord.Chunking {
            switch type {
            case "auto":
                return .auto
            case "static":
                guard let chunking = `static` else {
                    throw APIError(.badRequest, "chunking_strategy.static: required when type is \"static\"")
                }
                let range = VectorStoreRecord.Chunking.sizeRange
                guard range.contains(chunking.maxChunkSizeTokens) else {
                    throw APIError(.badRequest, "chunking_strategy.static.max_chunk_size_tokens: from \(range.lowerBound) to \(range.upperBound)")
                }
                guard (0...chunking.maxChunkSizeTokens / 2).contains(chunking.chunkOverlapTokens) else {
                    throw APIError(.badRequest, "chunking_strategy.static.chunk_overlap_tokens: from 0 to half of max_chunk_size_tokens (\(chunking.maxChunkSizeTokens / 2))")
                }
                return chunking
            default:
                throw APIError(.badRequest, "chunking_strategy.type: \"auto\" or \"static\", not \"\(type)\"")
            }
        }
    }

    struct Create: Decodable, Sendable {
        var name: String?
        var fileIDs: [String]?
        var chunkingStrategy: ChunkingStrategy?
        var expiresAfter: VectorStoreObjects.ExpiresAfter?
        var metadata: [String: String]?
        var description: String?

        enum CodingKeys: String, CodingKey {
            case name, metadata, description
            case fileIDs = "file_ids"
            case chunkingStrategy = "chunking_strategy"
            case expiresAfter = "expires_after"
        }
    }

    struct Update: Decodable, Sendable {
        var name: String?
        var expiresAfter: VectorStoreObjects.ExpiresAfter?
        var metadata: [String: String]?

        enum CodingKeys: String, CodingKey {
            case name, metadata
            case expiresAfter = "expires_after"
        }
    }

    /// `POST …/files`, and one entry of a batch's `files`.
    struct Attach: Decodable, Sendable {
        var fileID: String
        var attributes: [String: AttributeValue]?
        var chunkingStrategy: ChunkingStrategy?

        enum CodingKeys: String, CodingKey {
            case attributes
            case fileID = "file_id"
            case chunkingStrategy = "chunking_strategy"
        }
    }

    struct UpdateFile: Decodable, Sendable {
        var attributes: [String: AttributeValue]?
    }

    struct CreateBatch: Decodable, Sendable {
        var fileIDs: [String]?
        var files: [Attach]?
        var attributes: [String: AttributeValue]?
        var chunkingStrategy: ChunkingStrategy?

        enum CodingKeys: String, CodingKey {
            case files, attributes
            case fileIDs = "file_ids"
            case chunkingStrategy = "chunking_strategy"
        }

        /// The files to attach, each with its attributes and strategy.
        func attachments() throws -> [Attach] {
            switch (fileIDs, files) {
            case (let ids?, nil):
                return ids.map { Attach(fileID: $0, attributes: attributes, chunkingStrategy: chunkingStrategy) }
            case (nil, let files?):
                return files
            case (nil, nil):
                throw APIError(.badRequest, "file_ids or files: give the files to attach")
            case (_?, _?):
                throw APIError(.badRequest, "file_ids and files: give one of them, not both")
            }
        }
    }

    struct Search: Decodable, Sendable {
        var query: [String]
        var maxNumResults: Int?
        var filters: AttributeFilter?
        var rankingOptions: RankingOptions?
        /// Accepted and ignored: queries are searched as written.
        var rewriteQuery: Bool?

        struct RankingOptions: Decodable, Sendable {
            var ranker: String?
            var scoreThreshold: Float?

            enum CodingKeys: String, CodingKey {
                case ranker
                case scoreThreshold = "score_threshold"
            }
        }

        enum CodingKeys: String, CodingKey {
            case query, filters
            case maxNumResults = "max_num_results"
            case rankingOptions = "ranking_options"
            case rewriteQuery = "rewrite_query"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let one = try? container.decode(String.self, forKey: .query) {
                query = [one]
            } else {
                query = try container.decode([String].self, forKey: .query)
            }
            maxNumResults = try container.decodeIfPresent(Int.self, forKey: .maxNumResults)
            filters = try container.decodeIfPresent(AttributeFilter.self, forKey: .filters)
            rankingOptions = try container.decodeIfPresent(RankingOptions.self, forKey: .rankingOptions)
            rewriteQuery = try container.decodeIfPresent(Bool.self, forKey: .rewriteQuery)
        }
    }

    /// Checks attributes as OpenAI limits them: at most 16, keys up to 64 characters,
    /// string values up to 512.
    static func check(_ attributes: [String: AttributeValue]?) throws {
        guard let attributes else { return }
        guard attributes.count <= 16 else { throw APIError(.badRequest, "attributes: at most 16 pairs") }
        for (key, value) in attributes {
            guard key.count <= 64 else { throw APIError(.badRequest, "attributes: the key \(key.prefix(20))… is longer than 64 characters") }
            if case .string(let text) = value, text.count > 512 {
                throw APIError(.badRequest, "attributes.\(key): longer than 512 characters")
            }
        }
    }

    static func check(metadata: [String: String]?) throws {
        guard let metadata else { return }
        guard metadata.count <= 16 else { throw APIError(.badRequest, "metadata: at most 16 pairs") }
        for (key, value) in metadata where key.count > 64 || value.count > 512 {
            throw APIError(.badRequest, "metadata.\(key.prefix(64)): keys up to 64 characters, values up to 512")
        }
    }
}
