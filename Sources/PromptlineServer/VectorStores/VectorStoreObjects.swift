import PromptlineKnowledge

/// The objects of OpenAI's Vector Stores API, as the official SDKs parse them.
enum VectorStoreObjects {
    struct FileCounts: Encodable, Sendable, Hashable {
        var inProgress = 0
        var completed = 0
        var failed = 0
        var cancelled = 0
        var total = 0

        init(_ statuses: some Sequence<VectorStoreRecord.FileStatus>) {
            for status in statuses {
                total += 1
                switch status {
                case .inProgress: inProgress += 1
                case .completed: completed += 1
                case .failed: failed += 1
                case .cancelled: cancelled += 1
                }
            }
        }

        enum CodingKeys: String, CodingKey {
            case completed, failed, cancelled, total
            case inProgress = "in_progress"
        }
    }

    struct ExpiresAfter: Codable, Sendable, Hashable {
        var anchor: String
        var days: Int
    }

    struct VectorStore: Encodable, Sendable {
        var id: String
        var object = "vector_store"
        var createdAt: Int
        var name: String
        var usageBytes: Int
        var fileCounts: FileCounts
        /// `expired`, `in_progress` or `completed`.
        var status: String
        var expiresAfter: ExpiresAfter?
        var expiresAt: Int?
        var lastActiveAt: Int
        var metadata: [String: String]

        enum CodingKeys: String, CodingKey {
            case id, object, name, status, metadata
            case createdAt = "created_at"
            case usageBytes = "usage_bytes"
            case fileCounts = "file_counts"
            case expiresAfter = "expires_after"
            case expiresAt = "expires_at"
            case lastActiveAt = "last_active_at"
        }

        // `expires_after` and `expires_at` are always there, `null` without an expiry policy.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(object, forKey: .object)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(name, forKey: .name)
            try container.encode(usageBytes, forKey: .usageBytes)
            try container.encode(fileCounts, forKey: .fileCounts)
            try container.encode(status, forKey: .status)
            try container.encode(expiresAfter, forKey: .expiresAfter)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(lastActiveAt, forKey: .lastActiveAt)
            try container.encode(metadata, forKey: .metadata)
        }
    }

    struct ChunkingStrategy: Encodable, Sendable {
        var type = "static"
        var `static`: VectorStoreRecord.Chunking
    }

    struct File: Encodable, Sendable {
        var id: String
        var object = "vector_store.file"
        var usageBytes: Int
        var createdAt: Int
        var vectorStoreID: String
        var status: String
        var lastError: VectorStoreRecord.LastError?
        var chunkingStrategy: ChunkingStrategy
        var attributes: [String: AttributeValue]

        enum CodingKeys: String, CodingKey {
            case id, object, status, attributes
            case usageBytes = "usage_bytes"
            case createdAt = "created_at"
            case vectorStoreID = "vector_store_id"
            case lastError = "last_error"
            case chunkingStrategy = "chunking_strategy"
        }

        // `last_error` is always present, `null` when there is none, as OpenAI sends it.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(object, forKey: .object)
            try container.encode(usageBytes, forKey: .usageBytes)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(vectorStoreID, forKey: .vectorStoreID)
            try container.encode(status, forKey: .status)
            try container.encode(lastError, forKey: .lastError)
            try container.encode(chunkingStrategy, forKey: .chunkingStrategy)
            try container.encode(attributes, forKey: .attributes)
        }
    }

    struct FileBatch: Encodable, Sendable {
        var id: String
        var object = "vector_store.files_batch"
        var createdAt: Int
        var vectorStoreID: String
        var status: String
        var fileCounts: FileCounts

        enum CodingKeys: String, CodingKey {
            case id, object, status
            case createdAt = "created_at"
            case vectorStoreID = "vector_store_id"
            case fileCounts = "file_counts"
        }
    }

    struct Deleted: Encodable, Sendable {
        var id: String
        var object: String
        var deleted = true
    }

    struct Text: Encodable, Sendable {
        var type = "text"
        var text: String
    }

    struct SearchResult: Encodable, Sendable {
        var fileID: String
        var filename: String
        var score: Float
        var attributes: [String: AttributeValue]
        var content: [Text]

        enum CodingKeys: String, CodingKey {
            case filename, score, attributes, content
            case fileID = "file_id"
        }
    }

    struct SearchPage: Encodable, Sendable {
        var object = "vector_store.search_results.page"
        var searchQuery: [String]
        var data: [SearchResult]
        var hasMore = false
        var nextPage: String?

        enum CodingKeys: String, CodingKey {
            case object, data
            case searchQuery = "search_query"
            case hasMore = "has_more"
            case nextPage = "next_page"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(object, forKey: .object)
            try container.encode(searchQuery, forKey: .searchQuery)
            try container.encode(data, forKey: .data)
            try container.encode(hasMore, forKey: .hasMore)
            try container.encode(nextPage, forKey: .nextPage)
        }
    }

    /// `GET …/files/{id}/content`: the file's text, one page.
    struct ContentPage: Encodable, Sendable {
        var object = "vector_store.file_content.page"
        var data: [Text]
        var hasMore = false
        var nextPage: String?

        enum CodingKeys: String, CodingKey {
            case object, data
            case hasMore = "has_more"
            case nextPage = "next_page"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(object, forKey: .object)
            try container.encode(data, forKey: .data)
            try container.encode(hasMore, forKey: .hasMore)
            try container.encode(nextPage, forKey: .nextPage)
        }
    }
}
