import Foundation
import Hummingbird
import PromptlineCore

/// The task API (docs/api.md): submit, read, cancel.
///
/// With API keys, every task belongs to the key that submitted it: other keys read it as
/// unknown, and cannot cancel it.
struct TaskController: Sendable {
    let store: any TaskStore
    let pool: WorkerPool<ContinuousClock>
    let policy: SubmitPolicy
    let maxBodySize: Int
    /// The per-key limits; `nil` where there are no keys at all (in-process tests).
    let access: AccessControl?
    /// Counts the tasks cancelled here.
    let metrics: TaskMetrics
    /// Where each submission is recorded (its `batch_id`); `nil` on a server without a
    /// document store.
    let submissions: Submissions?
    /// Whether `webhook_url` is taken: only with a secret to sign the deliveries with.
    let acceptsWebhooks: Bool
    /// Checks where a `webhook_url` leads: nothing inside unless allowed.
    let webhooks: WebhookResolver
    /// Grounded questions (`vector_store_ids`); `nil` without a vector index.
    var answers: AnswerService? = nil
    /// At most this many ids in one `GET /api/tasks`.
    let maxIDsPerRead = 10_000

    func addRoutes(to router: Router<PromptlineRequestContext>) {
        router.post("/api/tasks", use: submit)
        router.get("/api/tasks", use: read)
        router.get("/api/tasks/{id}", use: detail)
        router.delete("/api/tasks/{id}", use: cancel)
        router.get("/api/stats", use: stats)
    }

    @Sendable func submit(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(SubmitRequest.self, from: request, limit: maxBodySize)
        var tasks = try policy.tasks(from: body)
        for index in tasks.indices {
            tasks[index].owner = context.owner
            tasks[index].request.cacheScope = policy.cacheScope(of: context.owner)
        }
        try await checkGrounding(of: tasks, context: context)
        if body.webhookURL != nil, !acceptsWebhooks || submissions == nil {
            throw APIError(.unprocessableContent, "webhook_url: this server signs no webhooks (it has no --webhook-secret / PROMPTLINE_WEBHOOK_SECRET); submit without webhook_url, or ask its operator to set a secret")
        }
        if let url = body.webhookURL { try await webhooks.check(url) }
        try await access?.admitWork(by: context.caller, tasks: tasks.count, tokens: TokenEstimate.of(tasks.map(\.request)))
        let (outcome, batchID) = try await enqueue(tasks, for: body, owner: context.owner)
        switch outcome {
        case .stored(let ids):
            context.logger.debug("tasks queued", metadata: ["count": "\(ids.count)"])
            return try JSONBody.response(SubmitResponse(taskIDs: ids, batchID: batchID), status: .accepted)
        case .duplicate(let ids):
            return try JSONBody.response(SubmitResponse(taskIDs: ids, batchID: batchID, duplicate: true), status: .ok)
        }
    }

    /// Stores the tasks and the record of their submission; answers the batch id beside
    /// what the store did.
    private func enqueue(_ tasks: [NewTask], for body: SubmitRequest, owner: String?) async throws -> (EnqueueOutcome, batchID: String?) {
        // Each key has its own idempotency keys: another key's same key is another submission.
        let idempotencyKey = body.idempotencyKey.map { key in owner.map { "\($0):\(key)" } ?? key }
        guard let submissions else { return (try await store.enqueue(tasks, idempotencyKey: idempotencyKey), nil) }
        guard idempotencyKey == nil, body.webhookURL == nil else {
            // The record after the tasks: a repeated submission's ids are the first one's
            // (and its record is made now if that one failed before it was answered), and a
            // webhook never waits for tasks that were not stored.
            let outcome = try await store.enqueue(tasks, idempotencyKey: idempotencyKey)
            return (outcome, try await submissions.record(taskIDs: outcome.ids, webhookURL: body.webhookURL, owner: owner))
        }
        // The ids are known already, so both writes go at once: one after the other cost
        // 7% of the intake on Redis, together 3%. When the tasks are not stored, the record
        // names ids that nobody was given.
        async let batchID = submissions.record(taskIDs: tasks.map(\.id), webhookURL: nil, owner: owner)
        let outcome = try await store.enqueue(tasks, idempotencyKey: nil)
        return (outcome, try await batchID)
    }

    @Sendable func read(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        guard let list = request.uri.queryParameters.get("task_ids") else {
            throw APIError(.badRequest, "task_ids is required: a comma-separated list of task ids")
        }
        let ids = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !ids.isEmpty else { throw APIError(.badRequest, "task_ids is empty") }
        guard ids.count <= maxIDsPerRead else {
            throw APIError(.badRequest, "at most \(maxIDsPerRead) task ids per request; this one has \(ids.count)")
        }
        let records = try await store.tasks(ids: ids).filter { context.maySee(ownedBy: $0.value.owner) }
        var answer: [String: TaskSummary] = [:]
        for id in ids {
            answer[id] = records[id].map(TaskSummary.init) ?? .notFound
        }
        return try JSONBody.response(answer)
    }

    @Sendable func detail(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let record = try await visibleTask(id, context: context)
        var citations: [Citation]?
        if record.request.grounding != nil, let answers {
            citations = try await answers.citations(ofTask: id)
        }
        return try JSONBody.response(TaskDetail(record, citations: citations))
    }

    /// The vector stores grounded questions name must exist and be the caller's, each
    /// checked once however many questions name it.
    private func checkGrounding(of tasks: [NewTask], context: PromptlineRequestContext) async throws {
        let ids = Set(tasks.flatMap { $0.request.grounding?.vectorStoreIDs ?? [] })
        guard !ids.isEmpty else { return }
        guard let answers else {
            throw APIError(.serviceUnavailable, "vector_store_ids: grounded questions need a vector index every instance shares (\(Setting.vectorURL.named))")
        }
        _ = try await answers.checkedStores(Array(ids), visible: context.maySee(ownedBy:), at: "vector_store_ids")
    }

    @Sendable func cancel(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        if context.caller != nil { _ = try await visibleTask(id, context: context) }
        switch try await store.cancel(id: id) {
        case .cancelled:
            metrics.finished(.cancelled)
            return try JSONBody.response(["id": id, "status": TaskStatus.cancelled.rawValue])
        case .alreadyFinished(let status):
            throw APIError(.conflict, "task \(id) has already finished (\(status.rawValue)); only unfinished tasks can be cancelled")
        case .notFound:
            throw APIError(.notFound, "task \(id) not found (unknown or expired)")
        }
    }

    /// The task, when it exists and the caller may see it; 404 otherwise.
    private func visibleTask(_ id: String, context: PromptlineRequestContext) async throws -> TaskRecord {
        guard let record = try await store.tasks(ids: [id])[id], context.maySee(ownedBy: record.owner) else {
            throw APIError(.notFound, "task \(id) not found (unknown or expired)")
        }
        return record
    }

    /// The whole server's counts for an admin key (or with no keys); a plain key's own.
    @Sendable func stats(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        if let caller = context.caller, !caller.admin {
            return try JSONBody.response(KeyStatsResponse(
                key: caller.id, name: caller.name, unfinishedTasks: try await store.unfinishedCount(owner: caller.id)))
        }
        let counts = try await store.counts()
        return try JSONBody.response(StatsResponse(
            queue: counts, workers: pool.workers, busyWorkers: pool.busyWorkers, tasksProcessed: pool.tasksProcessed))
    }
}
