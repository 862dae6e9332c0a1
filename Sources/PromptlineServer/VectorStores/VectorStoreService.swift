import Foundation
import Logging
import PromptlineCore
import PromptlineKnowledge

/// OpenAI's vector stores on Promptline's store, queue and vector index.
///
/// A vector store is one document (``VectorStoreRecord``) holding its files and file
/// batches; attaching a file enqueues its ingestion as a flow (``IngestionStepHandler``),
/// so it is durable, retried, rate-limited and shared by every instance. Chunks and their
/// vectors live in the ``VectorIndex`` under the store's id; a search sees only the files
/// whose ingestion completed, so nothing half-indexed is ever found.
package struct VectorStoreService: Sendable {
    let store: any FlowStore
    let documents: any DocumentStore
    let files: FileService
    let texts: DocumentTexts
    let index: any VectorIndex
    let embedder: any EmbeddingBackend
    /// Queries wait here while the upstream has asked every caller to pause.
    let gate: RateLimitGate<ContinuousClock>
    /// The model new vector stores embed with.
    let embeddingModel: String
    /// Chunks embedded per upstream call (one task each).
    let embeddingBatch: Int
    /// How long a vector store without `expires_after` stays (the files' own retention).
    let retention: Duration
    let logger: Logger

    enum Collections {
        static let stores = "vector_stores"
    }

    static let idPrefix = "vs_"
    /// The most files one store holds; the record keeps them all.
    static let maxFiles = 10_000

    // MARK: - Stores

    /// Makes a vector store and attaches its `file_ids`.
    func create(_ request: VectorStoreRequests.Create, owner: String?, visible: (String?) -> Bool) async throws -> VectorStoreRecord {
        try VectorStoreRequests.check(metadata: request.metadata)
        let days = try Self.days(request.expiresAfter)
        let chunking = try request.chunkingStrategy?.resolved() ?? .auto
        let now = Date().unixSeconds
        let record = VectorStoreRecord(
            id: Self.idPrefix + BatchService.randomHex(), owner: owner, name: request.name ?? "", createdAt: now, lastActiveAt: now,
            metadata: request.metadata ?? [:], expiresAfterDays: days, embeddingModel: embeddingModel, files: [], batches: []
        )
        let attachments = try await checked(
            (request.fileIDs ?? []).map { .init(fileID: $0, attributes: nil, chunkingStrategy: nil) }, defaultChunking: chunking, visible: visible
        )
        _ = try await documents.insertDocument(
            collection: Collections.stores, id: record.id, body: try BatchService.encode(record), ttl: ttl(days)
        )
        guard !attachments.isEmpty else { return record }
        return try await attach(attachments, to: record.id).record
    }

    /// `expires_after.days`, checked.
    static func days(_ expiresAfter: VectorStoreObjects.ExpiresAfter?) throws -> Int? {
        guard let expiresAfter else { return nil }
        guard expiresAfter.anchor == "last_active_at" else {
            throw APIError(.badRequest, "expires_after.anchor: \"last_active_at\", not \"\(expiresAfter.anchor)\"")
        }
        guard (1...365).contains(expiresAfter.days) else { throw APIError(.badRequest, "expires_after.days: from 1 to 365") }
        return expiresAfter.days
    }

    func ttl(_ days: Int?) -> Duration {
        days.map { .seconds($0 * 86_400) } ?? retention
    }

    /// A vector store the caller may see; 404 otherwise.
    func record(_ id: String, visible: (String?) -> Bool) async throws -> VectorStoreRecord {
        guard let record = try await record(id), visible(record.owner) else {
            throw APIError(.notFound, "no vector store \(id) (unknown or expired)")
        }
        return record
    }

    func record(_ id: String) async throws -> VectorStoreRecord? {
        guard let stored = try await documents.document(collection: Collections.stores, id: id) else { return nil }
        return try JSONDecoder().decode(VectorStoreRecord.self, from: stored.body)
    }

    /// Changes a vector store: reads it, lets `change` decide, and writes it back at the
    /// version read, again from the start when another writer came first. `ttl` restarts
    /// its expiry. Answers the record as written and what `change` answered; 404 when gone.
    @discardableResult
    func update<Answer>(
        _ id: String, ttl: Duration? = nil, _ change: (inout VectorStoreRecord) throws -> Answer
    ) async throws -> (record: VectorStoreRecord, answer: Answer) {
        while true {
            guard let stored = try await documents.document(collection: Collections.stores, id: id) else {
                throw APIError(.notFound, "no vector store \(id) (unknown or expired)")
            }
            var record = try JSONDecoder().decode(VectorStoreRecord.self, from: stored.body)
            let answer = try change(&record)
            if try await documents.replaceDocument(
                collection: Collections.stores, id: id, body: try BatchService.encode(record), ifVersion: stored.version, ttl: ttl
            ) != nil {
                return (record, answer)
            }
        }
    }

    /// Deletes a vector store: its record first (so no search finds it), then its
    /// unfinished ingestions and its chunks.
    func delete(_ record: VectorStoreRecord) async throws {
        _ = try await documents.deleteDocument(collection: Collections.stores, id: record.id)
        for file in record.files where file.status == .inProgress {
            _ = try await store.cancel(id: IngestionTaskID.step(record.id, file.fileID, generation: file.generation))
        }
        try await index.removeCollection(record.id)
    }

    /// One page of the caller's vector stores.
    func list(after: String?, before: String?, limit: Int, ascending: Bool, visible: (String?) -> Bool) async throws -> ListPage<VectorStoreRecord> {
        try await ListPage.reading(
            Collections.stores, of: documents, after: after, before: before, limit: limit, ascending: ascending, id: \.id,
            decode: { try JSONDecoder().decode(VectorStoreRecord.self, from: $0) }, keep: { visible($0.owner) }
        )
    }

    // MARK: - Views

    /// Where each file stands: as recorded, or — for one still `in_progress` — what its
    /// task came to if it ended without recording (dead-lettered after a crash, cancelled).
    func statuses(of record: VectorStoreRecord) async throws -> [String: (status: VectorStoreRecord.FileStatus, error: VectorStoreRecord.LastError?)] {
        var statuses: [String: (VectorStoreRecord.FileStatus, VectorStoreRecord.LastError?)] = [:]
        var running: [String: String] = [:]
        for file in record.files {
            statuses[file.fileID] = (file.status, file.lastError)
            if file.status == .inProgress {
                running[IngestionTaskID.step(record.id, file.fileID, generation: file.generation)] = file.fileID
            }
        }
        guard !running.isEmpty else { return statuses }
        for (taskID, task) in try await store.tasks(ids: Array(running.keys)) {
            guard let fileID = running[taskID] else { continue }
            switch task.status {
            case .error:
                statuses[fileID] = (.failed, .init(code: "server_error", message: task.error ?? "ingestion failed"))
            case .cancelled:
                statuses[fileID] = (.cancelled, nil)
            case .queued, .processing, .completed:
                break
            }
        }
        return statuses
    }

    func view(of record: VectorStoreRecord) async throws -> VectorStoreObjects.VectorStore {
        let statuses = try await statuses(of: record)
        let counts = VectorStoreObjects.FileCounts(record.files.compactMap { statuses[$0.fileID]?.status })
        return VectorStoreObjects.VectorStore(
            id: record.id, createdAt: record.createdAt, name: record.name,
            usageBytes: record.files.reduce(0) { $0 + ($1.status == .completed ? $1.usageBytes : 0) },
            fileCounts: counts, status: counts.inProgress > 0 ? "in_progress" : "completed",
            expiresAfter: record.expiresAfterDays.map { .init(anchor: "last_active_at", days: $0) },
            expiresAt: record.expiresAfterDays.map { record.lastActiveAt + $0 * 86_400 },
            lastActiveAt: record.lastActiveAt, metadata: record.metadata
        )
    }

    func view(of file: VectorStoreRecord.File, in record: VectorStoreRecord) async throws -> VectorStoreObjects.File {
        view(of: file, in: record, status: try await statuses(of: record)[file.fileID] ?? (file.status, file.lastError))
    }

    func view(
        of file: VectorStoreRecord.File, in record: VectorStoreRecord,
        status: (status: VectorStoreRecord.FileStatus, error: VectorStoreRecord.LastError?)
    ) -> VectorStoreObjects.File {
        VectorStoreObjects.File(
            id: file.fileID, usageBytes: status.status == .completed ? file.usageBytes : 0, createdAt: file.createdAt,
            vectorStoreID: record.id, status: status.status.rawValue, lastError: status.error,
            chunkingStrategy: .init(static: file.chunking), attributes: file.attributes
        )
    }
}

extension VectorStoreService {
    package init(
        _ settings: ServerSettings, store: any FlowStore, documents: any DocumentStore, index: any VectorIndex,
        embedder: any EmbeddingBackend, gate: RateLimitGate<ContinuousClock>, logger: Logger
    ) {
        let retention = Duration.seconds(settings.resultTTL)
        let files = FileService(documents: documents, retention: retention)
        self.init(
            store: store, documents: documents, files: files, texts: DocumentTexts(settings, files: files, logger: logger),
            index: index, embedder: embedder, gate: gate, embeddingModel: settings.embeddingModel,
            embeddingBatch: settings.embeddingBatch, retention: retention, logger: logger
        )
    }
}
