import Foundation
import PromptlineCore
import PromptlineKnowledge

extension VectorStoreService {
    /// A file about to be attached, checked.
    struct Attachment: Sendable {
        var fileID: String
        var filename: String
        var attributes: [String: AttributeValue]
        var chunking: VectorStoreRecord.Chunking
    }

    /// Checks what is to be attached: every file the caller's, attributes and strategies
    /// within OpenAI's limits. Changes nothing.
    func checked(
        _ requests: [VectorStoreRequests.Attach], defaultChunking: VectorStoreRecord.Chunking = .auto, visible: (String?) -> Bool
    ) async throws -> [Attachment] {
        guard requests.count <= 2_000 else { throw APIError(.badRequest, "at most 2000 files at once") }
        var attachments: [Attachment] = []
        for request in requests {
            guard let file = try await files.file(request.fileID), visible(file.owner) else {
                throw APIError(.notFound, "no file \(request.fileID) (unknown or expired)")
            }
            try VectorStoreRequests.check(request.attributes)
            attachments.append(Attachment(
                fileID: request.fileID, filename: file.filename, attributes: request.attributes ?? [:],
                chunking: try request.chunkingStrategy?.resolved() ?? defaultChunking
            ))
        }
        return attachments
    }

    /// Attaches files (again, for one already attached: its chunks are made anew) and
    /// enqueues their ingestion. With a `batchID`, records the batch too.
    @discardableResult
    func attach(_ attachments: [Attachment], to id: String, batchID: String? = nil) async throws -> (record: VectorStoreRecord, files: [VectorStoreRecord.File]) {
        let now = Date().unixSeconds
        let (record, replaced) = try await update(id) { record -> [String] in
            var replaced: [String] = []
            for attachment in attachments {
                var file = VectorStoreRecord.File(
                    fileID: attachment.fileID, createdAt: now, status: .inProgress, attributes: attachment.attributes,
                    chunking: attachment.chunking, generation: 1, usageBytes: 0, lastError: nil, filename: attachment.filename
                )
                if let at = record.files.firstIndex(where: { $0.fileID == attachment.fileID }) {
                    let old = record.files[at]
                    if old.status == .inProgress { replaced.append(IngestionTaskID.step(id, old.fileID, generation: old.generation)) }
                    file.generation = old.generation + 1
                    file.createdAt = old.createdAt
                    record.files[at] = file
                } else {
                    guard record.files.count < Self.maxFiles else {
                        throw APIError(.badRequest, "a vector store holds at most \(Self.maxFiles) files")
                    }
                    record.files.append(file)
                }
            }
            if let batchID {
                record.batches.append(.init(id: batchID, createdAt: now, fileIDs: attachments.map(\.fileID), cancelled: false))
            }
            return replaced
        }
        for taskID in replaced { _ = try await store.cancel(id: taskID) }
        let attached = attachments.compactMap { record.file($0.fileID) }
        for file in attached {
            do {
                _ = try await store.enqueueFlow(
                    NewFlow(parent: step(IngestionTaskID.step(id, file.fileID, generation: file.generation), of: record), children: [], onChildFailure: .continue),
                    idempotencyKey: nil
                )
            } catch {
                _ = try? await finish(file.fileID, generation: file.generation, in: id, status: .failed, error: .init(code: "server_error", message: "could not queue the file's ingestion: \(error)"))
                throw error
            }
        }
        return (record, attached)
    }

    /// A task of this store's ingestion: a step, with no messages until it runs.
    func step(_ taskID: String, of record: VectorStoreRecord) -> NewTask {
        NewTask(
            id: taskID,
            request: ChatRequest(model: record.embeddingModel, messages: [], maxTokens: 1, temperature: 0, cacheable: false),
            owner: record.owner
        )
    }

    /// Records how a file's ingestion ended, unless it was attached again or detached
    /// meanwhile. Answers whether it was recorded.
    @discardableResult
    func finish(
        _ fileID: String, generation: Int, in id: String, status: VectorStoreRecord.FileStatus,
        error: VectorStoreRecord.LastError? = nil, usageBytes: Int = 0
    ) async throws -> Bool {
        try await update(id) { record -> Bool in
            guard let at = record.files.firstIndex(where: { $0.fileID == fileID }), record.files[at].generation == generation else { return false }
            record.files[at].status = status
            record.files[at].lastError = error
            record.files[at].usageBytes = usageBytes
            return true
        }.answer
    }

    /// Detaches a file: from the record first (no search finds it from then on), then its
    /// ingestion and its chunks. Answers whether it was attached.
    func detach(_ fileID: String, from id: String) async throws -> Bool {
        let (_, removed) = try await update(id) { record -> VectorStoreRecord.File? in
            guard let at = record.files.firstIndex(where: { $0.fileID == fileID }) else { return nil }
            return record.files.remove(at: at)
        }
        guard let removed else { return false }
        _ = try await store.cancel(id: IngestionTaskID.step(id, fileID, generation: removed.generation))
        try await index.remove(fileID: fileID, collection: id)
        return true
    }

    /// Cancels a batch: its files still in progress stop and read `cancelled`.
    func cancel(batch batchID: String, in id: String) async throws -> VectorStoreRecord {
        let (record, stopped) = try await update(id) { record -> [VectorStoreRecord.File] in
            guard let at = record.batches.firstIndex(where: { $0.id == batchID }) else {
                throw APIError(.notFound, "no file batch \(batchID) in \(id)")
            }
            record.batches[at].cancelled = true
            var stopped: [VectorStoreRecord.File] = []
            for fileID in record.batches[at].fileIDs {
                guard let index = record.files.firstIndex(where: { $0.fileID == fileID }), record.files[index].status == .inProgress else { continue }
                record.files[index].status = .cancelled
                stopped.append(record.files[index])
            }
            return stopped
        }
        for file in stopped {
            _ = try await store.cancel(id: IngestionTaskID.step(id, file.fileID, generation: file.generation))
            try await index.remove(fileID: file.fileID, collection: id)
        }
        return record
    }

    func view(of batch: VectorStoreRecord.Batch, in record: VectorStoreRecord) async throws -> VectorStoreObjects.FileBatch {
        let statuses = try await statuses(of: record)
        let counts = VectorStoreObjects.FileCounts(batch.fileIDs.compactMap { statuses[$0]?.status })
        let status = batch.cancelled ? "cancelled" : (counts.inProgress > 0 ? "in_progress" : "completed")
        return VectorStoreObjects.FileBatch(id: batch.id, createdAt: batch.createdAt, vectorStoreID: record.id, status: status, fileCounts: counts)
    }

    /// One page of a store's files (or a batch's), by status when `filter` names one.
    func files(
        of record: VectorStoreRecord, batch: VectorStoreRecord.Batch? = nil, filter: String?, after: String?, before: String?,
        limit: Int, ascending: Bool
    ) async throws -> ListPage<VectorStoreObjects.File> {
        if let filter, VectorStoreRecord.FileStatus(rawValue: filter) == nil {
            throw APIError(.badRequest, "filter: one of in_progress, completed, failed, cancelled, not \"\(filter)\"")
        }
        let statuses = try await statuses(of: record)
        var chosen = record.files
        if let batch { chosen = chosen.filter { batch.fileIDs.contains($0.fileID) } }
        if let filter { chosen = chosen.filter { statuses[$0.fileID]?.status.rawValue == filter } }
        if !ascending { chosen.reverse() }
        let page = ListPage<VectorStoreRecord.File>.page(of: chosen, after: after, before: before, limit: limit, id: \.fileID)
        let views = page.data.map { file in
            view(of: file, in: record, status: statuses[file.fileID] ?? (file.status, file.lastError))
        }
        return ListPage(data: views, firstID: page.firstID, lastID: page.lastID, hasMore: page.hasMore)
    }
}
