import Foundation
import Logging
import OpenAIUpstream
import PromptlineCore

/// The Batch API's work: files in, batches as tasks on the one queue, results out.
///
/// A batch's requests run as ordinary tasks with ids `{batch id}-{line index}`, so they
/// share the workers, the retry policy and the durability of every other task, and any
/// instance can pick them up. The batch record (in the ``DocumentStore``) changes only by
/// compare-and-replace, so instances that watch the same batch cannot undo each other.
/// The output and error files are not stored: they are read from the tasks when asked for,
/// and last as long as the results do.
package struct BatchService: Sendable {
    let tasks: any TaskStore
    let documents: any DocumentStore
    let defaults: SubmitPolicy
    let maxRequests: Int
    /// How long files and finished batches stay readable (the result TTL).
    let retention: Duration
    /// The per-key limits a batch's requests count against; `nil` where there are no keys.
    var access: AccessControl?
    let logger: Logger
    /// Counts the requests a cancelled or expired batch cancels.
    let metrics: TaskMetrics

    /// OpenAI's one completion window.
    static let completionWindow = "24h"
    static let window: Duration = .seconds(86_400)
    /// Tasks are stored and read this many at a time.
    static let chunk = 1_000

    // MARK: - Files

    /// Where the batch's input and result files are kept.
    var files: FileService { FileService(documents: documents, retention: retention) }

    /// Checks a batch input file line by line and stores it.
    func storeFile(_ data: Data, filename: String, owner: String?) async throws -> FileObject {
        let input = try BatchInput(data, maxRequests: maxRequests)
        return try await files.store(data, filename: filename, purpose: "batch", owner: owner, lines: input.lines.count)
    }

    /// A stored file, or the output or error file of a batch.
    ///
    /// A batch's result files are stored when it ends (``storeResultFiles(of:)``); until
    /// they are (an instance that crashed in between), they are built from its tasks.
    func file(_ id: String) async throws -> FileObject? {
        if let file = try await files.file(id) { return file }
        guard let (batch, errors) = try await batchOfResultFile(id) else { return nil }
        return resultFile(of: batch, errors: errors, bytes: try await results(of: batch, errors: errors).count, expiresAt: nil)
    }

    /// The record of a batch's output or error file.
    private func resultFile(of batch: BatchObject, errors: Bool, bytes: Int, expiresAt: Int?) -> FileObject {
        FileObject(
            id: errors ? batch.errorFileName : batch.outputFileName, bytes: bytes,
            createdAt: batch.finalizingAt ?? batch.createdAt, expiresAt: expiresAt,
            filename: errors ? "batch_errors.jsonl" : "batch_output.jsonl", purpose: errors ? "batch_error" : "batch_output",
            owner: batch.owner
        )
    }

    /// Stores the result files of a batch that has just ended, built once from its tasks:
    /// reading them then costs one read, and they keep their lines after the tasks expire.
    private func storeResultFiles(of batch: BatchObject) async throws {
        for (id, errors) in [(batch.outputFileID, false), (batch.errorFileID, true)] where id != nil {
            let content = try await results(of: batch, errors: errors)
            let file = resultFile(of: batch, errors: errors, bytes: content.count, expiresAt: (Date() + retention.seconds).unixSeconds)
            try await files.store(file, content: content)
        }
    }

    /// A file's bytes, when it exists and `visible` accepts its owner.
    func fileContent(_ id: String, visible: (String?) -> Bool) async throws -> Data? {
        if let file = try await files.file(id) {
            guard visible(file.owner) else { return nil }
            return try await files.content(id)
        }
        guard let (batch, errors) = try await batchOfResultFile(id), visible(batch.owner) else { return nil }
        return try await results(of: batch, errors: errors)
    }

    private func batchOfResultFile(_ id: String) async throws -> (BatchObject, errors: Bool)? {
        for (suffix, errors) in [("-output", false), ("-errors", true)] where id.hasPrefix("file-") && id.hasSuffix(suffix) {
            let batchID = String(id.dropFirst("file-".count).dropLast(suffix.count))
            guard let (batch, _) = try await batch(batchID) else { return nil }
            let published = errors ? batch.errorFileID : batch.outputFileID
            return published == id ? (batch, errors) : nil
        }
        return nil
    }

    // MARK: - Batches

    /// Starts a batch for `caller` from an input file that `visible` accepts the owner of.
    func create(
        inputFileID: String, endpoint: String, completionWindow: String, metadata: [String: String]?,
        caller: APIKey?, visible: (String?) -> Bool
    ) async throws -> BatchObject {
        guard endpoint == "/v1/chat/completions" else {
            throw APIError(.badRequest, "endpoint: only /v1/chat/completions is supported")
        }
        guard completionWindow == Self.completionWindow else { throw APIError(.badRequest, "completion_window: must be \"24h\"") }
        guard let data = try await fileContent(inputFileID, visible: visible) else {
            throw APIError(.badRequest, "input_file_id: no file \(inputFileID) (unknown or expired)")
        }
        let input = try BatchInput(data, maxRequests: maxRequests)
        let requests = input.lines.map { BatchInput.request($0.body, defaults: defaults) }
        try await access?.admitWork(by: caller, tasks: requests.count, tokens: TokenEstimate.of(requests))
        let now = Date()
        let batch = BatchObject(
            id: "batch_" + Self.randomHex(), endpoint: endpoint, inputFileID: inputFileID,
            completionWindow: completionWindow, status: .inProgress, createdAt: now.unixSeconds,
            inProgressAt: now.unixSeconds, expiresAt: (now + Self.window.seconds).unixSeconds,
            requestCounts: .init(total: input.lines.count, completed: 0, failed: 0), metadata: metadata, owner: caller?.id
        )
        // The tasks first, each chunk all or nothing and idempotent; then the record that
        // makes the batch visible. A crash in between leaves tasks no batch shows, never a
        // batch without its tasks.
        var index = 0
        for chunk in stride(from: 0, to: input.lines.count, by: Self.chunk) {
            let lines = input.lines[chunk..<min(chunk + Self.chunk, input.lines.count)]
            let newTasks = lines.map { line -> NewTask in
                defer { index += 1 }
                var request = requests[index]
                request.cacheScope = defaults.cacheScope(of: batch.owner)
                return NewTask(
                    id: batch.taskID(index), request: request,
                    metadata: ["batch_id": batch.id, "custom_id": line.customID], owner: batch.owner
                )
            }
            _ = try await tasks.enqueue(newTasks, idempotencyKey: "\(batch.id):\(chunk)")
        }
        _ = try await documents.insertDocument(
            collection: BatchCollections.activeBatches, id: batch.id, body: Data(), ttl: Self.window + retention
        )
        _ = try await documents.insertDocument(
            collection: BatchCollections.batches, id: batch.id, body: try Self.encode(batch), ttl: Self.window + retention
        )
        logger.info("batch created", metadata: ["batch_id": "\(batch.id)", "requests": "\(input.lines.count)"])
        return batch
    }

    func batch(_ id: String) async throws -> (BatchObject, version: Int)? {
        guard let stored = try await documents.document(collection: BatchCollections.batches, id: id) else { return nil }
        return (try JSONDecoder().decode(BatchObject.self, from: stored.body), stored.version)
    }

    /// The batches `visible` accepts the owner of, newest first, after the batch `after`.
    func list(after: String?, limit: Int, visible: (String?) -> Bool) async throws -> BatchList {
        var batches: [BatchObject] = []
        var cursor = after
        var hasMore = false
        // Other keys' batches are skipped, so a page may take several reads to fill.
        while true {
            let stored = try await documents.documents(collection: BatchCollections.batches, after: cursor, limit: limit + 1)
            for document in stored {
                let batch = try JSONDecoder().decode(BatchObject.self, from: document.body)
                guard visible(batch.owner) else { continue }
                guard batches.count < limit else {
                    hasMore = true
                    break
                }
                batches.append(batch)
            }
            guard !hasMore, stored.count == limit + 1, let last = stored.last else { break }
            cursor = last.id
        }
        return BatchList(data: batches, firstID: batches.first?.id, lastID: batches.last?.id, hasMore: hasMore)
    }

    /// Asks for a batch to stop: it becomes `cancelling` now, and `cancelled` once its
    /// unfinished requests are cancelled (``advance(_:)``).
    func cancel(_ id: String) async throws -> BatchObject {
        while true {
            guard let (batch, version) = try await batch(id) else { throw APIError(.notFound, "no batch \(id) (unknown or expired)") }
            switch batch.status {
            case .cancelling, .cancelled: return batch
            case .validating, .inProgress, .finalizing: break
            case .completed, .failed, .expired:
                throw APIError(.conflict, "batch \(id) has already ended (\(batch.status.rawValue)); only a running batch can be cancelled")
            }
            var changed = batch
            changed.status = .cancelling
            changed.cancellingAt = Date().unixSeconds
            if try await replace(changed, version: version) { return try await advance(id) ?? changed }
        }
    }

    /// Moves a batch on: counts its finished requests, cancels what a cancelled or expired
    /// batch still has queued, and ends it once every request has finished. Answers the
    /// batch as it is now; `nil` when it is gone.
    @discardableResult
    func advance(_ id: String) async throws -> BatchObject? {
        guard let (batch, version) = try await batch(id), batch.status.isActive else {
            _ = try await documents.deleteDocument(collection: BatchCollections.activeBatches, id: id)
            return try await self.batch(id)?.0
        }
        let now = Date().unixSeconds
        var changed = batch
        let stopping = batch.status == .cancelling || (batch.expiresAt.map { now >= $0 } ?? false)
        var counts = BatchObject.RequestCounts(total: batch.requestCounts.total, completed: 0, failed: 0)
        var unfinished: [String] = []
        try await forEachTask(of: batch) { _, id, record in
            switch record?.status {
            case .completed?: counts.completed += 1
            case .error?, .cancelled?, nil: counts.failed += 1
            case .queued?, .processing?: unfinished.append(id)
            }
        }
        if stopping {
            // A request may finish between the count and its cancellation: count what it became.
            for id in unfinished {
                switch try await tasks.cancel(id: id) {
                case .alreadyFinished(.completed):
                    counts.completed += 1
                case .cancelled:
                    metrics.finished(.cancelled)
                    counts.failed += 1
                case .alreadyFinished, .notFound:
                    counts.failed += 1
                }
            }
            unfinished = []
        }
        changed.requestCounts = counts
        if unfinished.isEmpty {
            changed.finalizingAt = changed.finalizingAt ?? now
            if batch.status == .cancelling {
                changed.status = .cancelled
                changed.cancelledAt = now
            } else if stopping {
                changed.status = .expired
                changed.expiredAt = now
            } else {
                changed.status = .completed
                changed.completedAt = now
            }
            changed.outputFileID = counts.completed > 0 || changed.status == .completed ? batch.outputFileName : nil
            changed.errorFileID = counts.failed > 0 ? batch.errorFileName : nil
        }
        guard changed != batch else { return batch }
        if try await replace(changed, version: version) {
            if !changed.status.isActive {
                // Only the instance whose change ended the batch stores its files.
                try await storeResultFiles(of: changed)
                _ = try await documents.deleteDocument(collection: BatchCollections.activeBatches, id: id)
                logger.info("batch ended", metadata: [
                    "batch_id": "\(id)", "status": "\(changed.status.rawValue)",
                    "completed": "\(counts.completed)", "failed": "\(counts.failed)",
                ])
            }
            return changed
        }
        // Another instance changed it meanwhile; the next round looks again.
        return try await self.batch(id)?.0
    }

    /// The batches still running, newest first: their ids and sizes.
    func activeBatches() async throws -> [(id: String, requests: Int)] {
        var active: [(id: String, requests: Int)] = []
        var after: String?
        while true {
            let page = try await documents.documents(collection: BatchCollections.activeBatches, after: after, limit: 500)
            for marker in page {
                guard let (batch, _) = try await batch(marker.id) else {
                    _ = try await documents.deleteDocument(collection: BatchCollections.activeBatches, id: marker.id)
                    continue
                }
                active.append((batch.id, batch.requestCounts.total))
            }
            guard page.count == 500, let last = page.last else { return active }
            after = last.id
        }
    }

    // MARK: - Results

    /// The output file (completed requests) or the error file (the others) of a batch, in
    /// OpenAI's line format, in the input's order.
    func results(of batch: BatchObject, errors: Bool) async throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var out = Data()
        try await forEachTask(of: batch) { _, id, record in
            let customID = record?.metadata["custom_id"]
            let line: ResultLine
            let status = record?.status
            if let record, status == .completed {
                guard !errors else { return }
                var completion = ChatCompletion(TaskResult(content: record.result ?? "", usage: record.usage, model: record.request.model))
                completion.created = (record.finishedAt ?? Date()).unixSeconds
                line = ResultLine(
                    id: "batch_req_\(id)", customID: customID,
                    response: .init(statusCode: 200, requestID: id, body: completion), error: nil
                )
            } else if status?.isFinished ?? true {
                guard errors else { return }
                let code: String
                switch (status, batch.status) {
                case (nil, _): code = "expired_result"
                case (.cancelled?, .expired): code = "batch_expired"
                case (.cancelled?, _): code = "batch_cancelled"
                default: code = "request_failed"
                }
                let message = record?.error ?? (record == nil ? "the request's result has expired" : "the request was cancelled")
                line = ResultLine(id: "batch_req_\(id)", customID: customID, response: nil, error: .init(code: code, message: message))
            } else {
                return
            }
            out.append(try encoder.encode(line))
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Reads a batch's tasks a chunk at a time, in input order; `record` is `nil` for a
    /// task that has expired.
    private func forEachTask(of batch: BatchObject, _ body: (Int, String, TaskRecord?) throws -> Void) async throws {
        let total = batch.requestCounts.total
        for start in stride(from: 0, to: total, by: Self.chunk) {
            let ids = (start..<min(start + Self.chunk, total)).map(batch.taskID)
            let records = try await tasks.tasks(ids: ids)
            for (offset, id) in ids.enumerated() { try body(start + offset, id, records[id]) }
        }
    }

    // MARK: - Helpers

    private func replace(_ batch: BatchObject, version: Int) async throws -> Bool {
        try await documents.replaceDocument(
            collection: BatchCollections.batches, id: batch.id, body: try Self.encode(batch), ifVersion: version, ttl: nil
        ) != nil
    }

    static func encode(_ value: some Encodable) throws -> Data {
        try JSONBody.encoder.encode(value)
    }

    static func randomHex() -> String {
        UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }
}

/// One line of a batch's output or error file.
struct ResultLine: Encodable {
    struct Response: Encodable {
        var statusCode: Int
        var requestID: String
        var body: ChatCompletion

        enum CodingKeys: String, CodingKey {
            case statusCode = "status_code"
            case requestID = "request_id"
            case body
        }
    }

    struct Failure: Encodable {
        var code: String
        var message: String
    }

    var id: String
    var customID: String?
    var response: Response?
    var error: Failure?

    enum CodingKeys: String, CodingKey {
        case id, response, error
        case customID = "custom_id"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(customID, forKey: .customID)
        try c.encode(response, forKey: .response)
        try c.encode(error, forKey: .error)
    }
}

extension BatchService {
    package init(_ settings: ServerSettings, tasks: any TaskStore, documents: any DocumentStore, metrics: PromptlineMetrics, logger: Logger) {
        self.init(
            tasks: tasks, documents: documents, defaults: SubmitPolicy(settings), maxRequests: settings.batchMaxRequests,
            retention: .seconds(settings.resultTTL), logger: logger, metrics: TaskMetrics(factory: metrics.factory)
        )
    }
}
