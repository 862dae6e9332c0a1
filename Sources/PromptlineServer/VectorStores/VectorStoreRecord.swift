import PromptlineKnowledge

/// A vector store as the store keeps it: one document holding the store, its files and its
/// file batches, changed by version-checked replacement (``VectorStoreService/update(_:_:)``).
///
/// A file's status is written here when its ingestion ends; while it runs, the file reads
/// `in_progress`, or what its task came to if the task ended without saying (dead-lettered).
struct VectorStoreRecord: Codable, Sendable {
    var id: String
    var owner: String?
    var name: String
    var createdAt: Int
    var lastActiveAt: Int
    var metadata: [String: String]
    /// `expires_after.days`, anchored at `last_active_at`.
    var expiresAfterDays: Int?
    /// The model every chunk of this store was embedded with; a query is embedded with it too.
    var embeddingModel: String
    var files: [File]
    var batches: [Batch]

    struct File: Codable, Sendable {
        var fileID: String
        var createdAt: Int
        var status: FileStatus
        var attributes: [String: AttributeValue]
        var chunking: Chunking
        /// Counts the attachments of this file: the task of each is named after it, so a
        /// late step of an earlier one can tell it is stale.
        var generation: Int
        var usageBytes: Int
        var lastError: LastError?
        /// The file's name, kept for search results and citations.
        var filename: String
    }

    struct Batch: Codable, Sendable {
        var id: String
        var createdAt: Int
        var fileIDs: [String]
        var cancelled: Bool
    }

    enum FileStatus: String, Codable, Sendable {
        case inProgress = "in_progress"
        case completed, failed, cancelled
    }

    struct LastError: Codable, Sendable, Hashable {
        /// `server_error`, `unsupported_file` or `invalid_file`.
        var code: String
        var message: String
    }

    /// A static chunking strategy; `auto` is 800 tokens with 400 overlap.
    struct Chunking: Codable, Sendable, Hashable {
        var maxChunkSizeTokens: Int
        var chunkOverlapTokens: Int

        static let auto = Chunking(maxChunkSizeTokens: 800, chunkOverlapTokens: 400)
        static let sizeRange = 100...4_096

        enum CodingKeys: String, CodingKey {
            case maxChunkSizeTokens = "max_chunk_size_tokens"
            case chunkOverlapTokens = "chunk_overlap_tokens"
        }
    }

    func file(_ id: String) -> File? {
        files.first { $0.fileID == id }
    }

    /// Files a search may return: those completed whose attributes pass `filter`.
    func searchable(_ filter: AttributeFilter?) -> [File] {
        files.filter { $0.status == .completed && (filter?.matches($0.attributes) ?? true) }
    }
}
