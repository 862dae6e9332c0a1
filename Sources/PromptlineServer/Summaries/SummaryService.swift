import Logging
import Foundation
import PromptlineCore
import PromptlineDocuments

/// Summaries of documents: a flow on the one queue. The summary's task waits for one step
/// per document, each of which waits for its chunks' calls (and the collapse calls above
/// them); see ``SummaryTaskID`` for the shape and ``SummaryStepHandler`` for the steps.
/// Everything lives in the store, so a summary survives restarts and is worked on by every
/// instance that shares the store.
package struct SummaryService: Sendable {
    let store: any FlowStore
    let documents: any DocumentStore
    let files: FileService
    let texts: DocumentTexts
    let policy: SubmitPolicy
    /// How long a summary's record stays.
    let retention: Duration

    enum Collections {
        static let summaries = "summaries"
    }

    // MARK: - Creating

    /// Stores the summary and its flow; answers its id (the first one's for a repeated
    /// idempotency key) and whether it is a repeat.
    func create(_ request: SummaryRequest, owner: String?, visible: (String?) -> Bool) async throws -> (id: String, duplicate: Bool) {
        let record = try await record(for: request, owner: owner, visible: visible)
        _ = try await documents.insertDocument(
            collection: Collections.summaries, id: record.id, body: try BatchService.encode(record), ttl: retention
        )
        let idempotencyKey = request.idempotencyKey.map { key in "summary:" + (owner.map { "\($0):\(key)" } ?? key) }
        let outcome = try await store.enqueueFlow(flow(of: record), idempotencyKey: idempotencyKey)
        switch outcome {
        case .stored:
            return (record.id, false)
        case .duplicate(let ids):
            _ = try await documents.deleteDocument(collection: Collections.summaries, id: record.id)
            guard let first = ids.first.flatMap(SummaryTaskID.init) else {
                throw APIError(.conflict, "idempotency_key: already used for something that is not a summary")
            }
            return (first.summaryID, true)
        }
    }

    private func record(for request: SummaryRequest, owner: String?, visible: (String?) -> Bool) async throws -> SummaryRecord {
        let fileIDs = request.fileIDs ?? []
        let texts = request.texts ?? []
        guard !fileIDs.isEmpty || !texts.isEmpty else {
            throw APIError(.badRequest, "file_ids or texts: give at least one document to summarise")
        }
        guard fileIDs.count + texts.count <= SummaryRequest.maxDocuments else {
            throw APIError(.contentTooLarge, "a summary takes at most \(SummaryRequest.maxDocuments) documents and texts")
        }
        if let index = texts.firstIndex(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
            throw APIError(.unprocessableContent, "texts[\(index)]: empty")
        }
        let chunkTokens = request.chunkTokens ?? 2_000
        guard SummaryRequest.chunkTokensRange.contains(chunkTokens) else {
            throw APIError(.unprocessableContent, "chunk_tokens: from \(SummaryRequest.chunkTokensRange.lowerBound) to \(SummaryRequest.chunkTokensRange.upperBound)")
        }
        let maxParallel = request.maxParallel ?? 8
        guard SummaryRequest.maxParallelRange.contains(maxParallel) else {
            throw APIError(.unprocessableContent, "max_parallel: from \(SummaryRequest.maxParallelRange.lowerBound) to \(SummaryRequest.maxParallelRange.upperBound)")
        }
        let onChunkError = request.onChunkError ?? "fail"
        guard ["fail", "skip"].contains(onChunkError) else {
            throw APIError(.unprocessableContent, "on_chunk_error: \"fail\" or \"skip\", not \"\(onChunkError)\"")
        }
        let maxTokens = request.maxTokens ?? policy.defaultMaxTokens
        guard (1...policy.maxTokensCeiling).contains(maxTokens) else {
            throw APIError(.unprocessableContent, "max_tokens: from 1 to \(policy.maxTokensCeiling)")
        }
        let temperature = request.temperature ?? policy.defaultTemperature
        guard (0...2).contains(temperature) else { throw APIError(.unprocessableContent, "temperature: from 0 to 2") }
        var documents: [SummaryRecord.Document] = []
        for (index, id) in fileIDs.enumerated() {
            guard let file = try await files.file(id), visible(file.owner) else {
                throw APIError(.unprocessableContent, "file_ids[\(index)]: no file \(id) (unknown or expired)")
            }
            guard ["user_data", "assistants"].contains(file.purpose) else {
                throw APIError(.unprocessableContent, "file_ids[\(index)]: \(id) is a \(file.purpose) file, not a document (upload it with purpose user_data)")
            }
            documents.append(.init(fileID: id, filename: file.filename))
        }
        documents += texts.indices.map { SummaryRecord.Document(index: $0) }
        return SummaryRecord(
            id: "sum_" + BatchService.randomHex(), owner: owner, createdAt: Date().unixSeconds, documents: documents, texts: texts,
            instructions: request.instructions, model: request.model ?? policy.defaultModel, maxTokens: maxTokens,
            temperature: temperature, chunkTokens: chunkTokens, maxParallel: maxParallel, onChunkError: onChunkError,
            priority: request.priority ?? 0
        )
    }

    /// The summary's task, waiting for one step per document.
    private func flow(of record: SummaryRecord) -> NewFlow {
        NewFlow(
            parent: step(SummaryTaskID.root(record.id), of: record),
            children: record.documents.indices.map { step(SummaryTaskID.document(record.id, $0), of: record) },
            // `skip`: a failed chunk (or document) is recorded and the rest summarised.
            onChildFailure: record.onChunkError == "skip" ? .continue : .fail,
            maxParallel: record.documentWindow
        )
    }

    /// A step: no messages until it runs.
    private func step(_ id: String, of record: SummaryRecord) -> NewTask {
        NewTask(id: id, request: request(of: record, messages: []), priority: record.priority, owner: record.owner)
    }

    /// A call of this summary. Calls are not cached (the same chunk of another summary may
    /// have other instructions in its system message, which the cache would tell apart, but
    /// a summary is asked for to be written anew) and carry the summary's id as `user`.
    func request(of record: SummaryRecord, messages: [ChatMessage]) -> ChatRequest {
        ChatRequest(
            model: record.model, messages: messages, maxTokens: record.maxTokens, temperature: record.temperature,
            parameters: ["user": .string(SummaryTaskID.root(record.id))], cacheable: false
        )
    }

    func call(_ id: String, of record: SummaryRecord, messages: [ChatMessage]) -> NewTask {
        NewTask(id: id, request: request(of: record, messages: messages), priority: record.priority, owner: record.owner)
    }

    // MARK: - Reading

    func record(_ id: String) async throws -> SummaryRecord? {
        guard let stored = try await documents.document(collection: Collections.summaries, id: id) else { return nil }
        return try JSONDecoder().decode(SummaryRecord.self, from: stored.body)
    }

    /// The text of one of the summary's documents; a file's is extracted once and kept.
    func text(of record: SummaryRecord, document index: Int) async throws -> String {
        let document = record.documents[index]
        if let textIndex = document.index { return record.texts[textIndex] }
        guard let fileID = document.fileID else { throw TaskStepFailure("document \(index) names nothing to read") }
        do {
            return try await texts.text(of: fileID)
        } catch let error as DocumentTexts.Gone {
            throw TaskStepFailure("\(document.name): \(error)")
        } catch let error as ExtractionError {
            throw TaskStepFailure("\(error)")
        }
    }

    /// Where a summary stands, read from its tasks.
    func view(of record: SummaryRecord) async throws -> SummaryView {
        let rootID = SummaryTaskID.root(record.id)
        let documentIDs = record.documents.indices.map { SummaryTaskID.document(record.id, $0) }
        var ids = [rootID] + documentIDs
        var chunkIDs: [[String]] = []
        for documentID in documentIDs {
            let children = try await store.flow(parentID: documentID)?.childIDs ?? []
            ids += children
            chunkIDs.append(children.filter { SummaryTaskID.level(ofChild: $0) == 0 })
        }
        ids += try await store.flow(parentID: rootID)?.childIDs.filter { !documentIDs.contains($0) } ?? []
        let tasks = try await store.tasks(ids: ids)
        return SummaryView(record: record, root: tasks[rootID], documents: documentIDs.map { tasks[$0] }, chunks: chunkIDs.map { $0.map { tasks[$0] } }, all: Array(tasks.values))
    }

    /// Cancels the summary and every unfinished task of it.
    func cancel(_ record: SummaryRecord) async throws -> CancelOutcome {
        try await store.cancel(id: SummaryTaskID.root(record.id))
    }
}

extension SummaryService {
    package init(_ settings: ServerSettings, store: any FlowStore, documents: any DocumentStore, logger: Logger) {
        let retention = Duration.seconds(settings.resultTTL)
        let files = FileService(documents: documents, retention: retention)
        self.init(
            store: store, documents: documents, files: files, texts: DocumentTexts(settings, files: files, logger: logger),
            policy: SubmitPolicy(settings), retention: retention
        )
    }
}
