import Foundation
import PromptlineCore
import PromptlineDocuments
import PromptlineKnowledge

/// Runs a vector store file's ingestion (``IngestionTaskID``): the file's first run
/// extracts and cuts its text and waits for one embedding call per group of chunks; each
/// call embeds its group and stores the vectors; the file's last run checks every chunk is
/// stored and marks the file completed — or failed, with its chunks removed, when a call
/// failed for good. A step of an attachment since replaced or detached does nothing.
///
/// The text is cut once: each call's chunks are kept in the document store
/// (``IngestionGroup``) until the file is done with, and cut again only if they are gone.
struct IngestionStepHandler: TaskStepHandler {
    let stores: VectorStoreService

    func step(for task: ClaimedTask) async throws -> TaskStep {
        guard let id = IngestionTaskID(task.id) else { throw TaskStepFailure("\(task.id) is not a step of an ingestion") }
        guard let record = try await stores.record(id.vectorStoreID), let file = record.file(id.fileID),
              file.generation == id.generation, file.status == .inProgress
        else {
            return .finish(TaskResult(content: "stale: the file was detached, attached again or cancelled"))
        }
        if let group = id.group {
            return .perform { try await embed(group, of: file, in: record) }
        }
        // The step is made a parent with no children (so its failure policy is set): it has
        // none until its first run gives it its calls.
        guard let flow = try await stores.store.flow(parentID: task.id), !flow.childIDs.isEmpty else {
            return try await cut(file, of: record, task: task, id: id)
        }
        return try await conclude(flow, file: file, of: record, id: id)
    }

    /// The file's chunks as its strategy cuts them: the same every time for the same text.
    private func chunks(of file: VectorStoreRecord.File, in record: VectorStoreRecord, id: IngestionTaskID) async throws -> [TextChunk] {
        let text: String
        do {
            text = try await stores.texts.text(of: file.fileID)
        } catch let error as ExtractionError {
            let code = [.unsupportedType, .notUTF8].contains(error.code) ? "unsupported_file"
                : [.timedOut, .toolMissing, .toolFailed].contains(error.code) ? "server_error" : "invalid_file"
            throw try await failed(file, in: record, id: id, code: code, message: error.message)
        } catch let error as DocumentTexts.Gone {
            throw try await failed(file, in: record, id: id, code: "invalid_file", message: "\(error)")
        }
        let chunker = TextChunker(chunkTokens: file.chunking.maxChunkSizeTokens, overlapTokens: file.chunking.chunkOverlapTokens)
        return chunker.chunks(of: text)
    }

    private func cut(_ file: VectorStoreRecord.File, of record: VectorStoreRecord, task: ClaimedTask, id: IngestionTaskID) async throws -> TaskStep {
        let chunks = try await chunks(of: file, in: record, id: id)
        guard !chunks.isEmpty else {
            throw try await failed(file, in: record, id: id, code: "invalid_file", message: "\(file.filename) has no text")
        }
        // What an earlier attachment of this file left.
        try await stores.index.remove(fileID: file.fileID, collection: record.id)
        // Each call's chunks are kept for it: cutting a long text takes a while, and is done once.
        var calls: [NewTask] = []
        for (group, start) in stride(from: 0, to: chunks.count, by: stores.embeddingBatch).enumerated() {
            let callID = IngestionTaskID.call(below: task.id, group: group)
            let part = chunks[start..<min(start + stores.embeddingBatch, chunks.count)]
            try await keep(IngestionGroup(chunks: part.map { .init(index: $0.index, text: $0.text) }), for: callID)
            calls.append(stores.step(callID, of: record))
        }
        _ = try await stores.store.addChildren(task.lease, children: calls, maxParallel: nil)
        return .waiting
    }

    /// A call's chunks, as its step cut them; `nil` when they are gone (expired).
    private func group(_ callID: String) async throws -> IngestionGroup? {
        guard let stored = try await stores.documents.document(collection: IngestionGroup.collection, id: callID) else { return nil }
        return try JSONDecoder().decode(IngestionGroup.self, from: stored.body)
    }

    private func keep(_ group: IngestionGroup, for callID: String) async throws {
        let body = try JSONEncoder().encode(group)
        _ = try await stores.documents.deleteDocument(collection: IngestionGroup.collection, id: callID)
        _ = try await stores.documents.insertDocument(collection: IngestionGroup.collection, id: callID, body: body, ttl: stores.retention)
    }

    /// Forgets the calls' chunks once the file is done with.
    private func forgetGroups(of flow: FlowState) async throws {
        for callID in flow.childIDs {
            _ = try await stores.documents.deleteDocument(collection: IngestionGroup.collection, id: callID)
        }
    }

    private func embed(_ group: Int, of file: VectorStoreRecord.File, in record: VectorStoreRecord) async throws -> TaskResult {
        let id = IngestionTaskID(vectorStoreID: record.id, fileID: file.fileID, generation: file.generation, group: group)
        let part: [IngestionGroup.Chunk]
        if let kept = try await self.group(IngestionTaskID.call(below: id.stepID, group: group)) {
            part = kept.chunks
        } else {
            let all = try await chunks(of: file, in: record, id: id)
            part = all.dropFirst(group * stores.embeddingBatch).prefix(stores.embeddingBatch).map { .init(index: $0.index, text: $0.text) }
        }
        guard !part.isEmpty else { return TaskResult(content: #"{"chunks":0}"#) }
        let embeddings = try await stores.embedder.embed(part.map(\.text), model: record.embeddingModel)
        guard embeddings.vectors.count == part.count else {
            throw UpstreamError(.invalidResponse, message: "embeddings answer: \(embeddings.vectors.count) vectors for \(part.count) inputs")
        }
        try await stores.index.upsert(
            zip(part, embeddings.vectors).map { IndexedChunk(fileID: file.fileID, index: $0.index, text: $0.text, vector: $1) },
            collection: record.id
        )
        let tokens = embeddings.promptTokens ?? part.reduce(0) { $0 + TextChunker.estimatedTokens(in: $1.text) }
        return TaskResult(
            content: #"{"chunks":\#(part.count)}"#, usage: TokenUsage(promptTokens: tokens, completionTokens: 0, totalTokens: tokens),
            model: record.embeddingModel
        )
    }

    /// Every call has finished: the file is searchable when all its chunks are stored.
    private func conclude(_ flow: FlowState, file: VectorStoreRecord.File, of record: VectorStoreRecord, id: IngestionTaskID) async throws -> TaskStep {
        if let cause = flow.failedChildren.sorted(by: { $0.key < $1.key }).first?.value {
            try await stores.index.remove(fileID: file.fileID, collection: record.id)
            try await forgetGroups(of: flow)
            throw try await failed(file, in: record, id: id, code: "server_error", message: "embedding \(file.filename) failed: \(cause)")
        }
        var groups: [IngestionGroup] = []
        for callID in flow.childIDs {
            guard let group = try await group(callID) else { break }
            groups.append(group)
        }
        let chunks: [IngestionGroup.Chunk]
        if groups.count == flow.childIDs.count {
            chunks = groups.flatMap(\.chunks)
        } else {
            chunks = try await self.chunks(of: file, in: record, id: id).map { .init(index: $0.index, text: $0.text) }
        }
        let stored = try await stores.index.count(fileID: file.fileID, collection: record.id)
        guard stored == chunks.count else {
            try await stores.index.remove(fileID: file.fileID, collection: record.id)
            try await forgetGroups(of: flow)
            throw try await failed(file, in: record, id: id, code: "server_error", message: "\(stored) of \(chunks.count) chunks of \(file.filename) were stored")
        }
        let bytes = chunks.reduce(0) { $0 + $1.text.utf8.count }
        try await forgetGroups(of: flow)
        try await stores.finish(file.fileID, generation: file.generation, in: record.id, status: .completed, usageBytes: bytes)
        return .finish(TaskResult(content: #"{"chunks":\#(chunks.count)}"#))
    }

    /// Records the file as failed and answers the failure that ends its task.
    private func failed(_ file: VectorStoreRecord.File, in record: VectorStoreRecord, id: IngestionTaskID, code: String, message: String) async throws -> TaskStepFailure {
        try await stores.finish(file.fileID, generation: file.generation, in: record.id, status: .failed, error: .init(code: code, message: message))
        return TaskStepFailure(message)
    }
}
