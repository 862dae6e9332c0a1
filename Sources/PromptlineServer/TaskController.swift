import Foundation
import Hummingbird
import PromptlineCore

/// The task API of the original design: submit, read, cancel.
struct TaskController: Sendable {
    let store: any TaskStore
    let pool: WorkerPool
    let policy: SubmitPolicy
    let maxBodySize: Int
    /// Where each submission is recorded (its `batch_id`); `nil` on a server without a
    /// document store.
    let submissions: Submissions?
    /// Whether `webhook_url` is taken: only with a secret to sign the deliveries with.
    let acceptsWebhooks: Bool
    /// At most this many ids in one `GET /api/tasks`.
    let maxIDsPerRead = 10_000

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/api/tasks", use: submit)
        router.get("/api/tasks", use: read)
        router.get("/api/tasks/{id}", use: detail)
        router.delete("/api/tasks/{id}", use: cancel)
        router.get("/api/stats", use: stats)
    }

    @Sendable func submit(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await JSONBody.decode(SubmitRequest.self, from: request, limit: maxBodySize)
        let tasks = try policy.tasks(from: body)
        if body.webhookURL != nil, !acceptsWebhooks || submissions == nil {
            throw APIError(.unprocessableContent, "webhook_url: this server signs no webhooks (it has no --webhook-secret / PROMPTLINE_WEBHOOK_SECRET); submit without webhook_url, or ask its operator to set a secret")
        }
        let (outcome, batchID) = try await enqueue(tasks, for: body)
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
    private func enqueue(_ tasks: [NewTask], for body: SubmitRequest) async throws -> (EnqueueOutcome, batchID: String?) {
        guard let submissions else { return (try await store.enqueue(tasks, idempotencyKey: body.idempotencyKey), nil) }
        guard body.idempotencyKey == nil, body.webhookURL == nil else {
            // The record after the tasks: a repeated submission's ids are the first one's
            // (and its record is made now if that one failed before it was answered), and a
            // webhook never waits for tasks that were not stored.
            let outcome = try await store.enqueue(tasks, idempotencyKey: body.idempotencyKey)
            return (outcome, try await submissions.record(taskIDs: outcome.ids, webhookURL: body.webhookURL))
        }
        // The ids are known already, so both writes go at once: one after the other cost
        // 7% of the intake on Redis, together 3%. When the tasks are not stored, the record
        // names ids that nobody was given.
        async let batchID = submissions.record(taskIDs: tasks.map(\.id), webhookURL: nil)
        let outcome = try await store.enqueue(tasks, idempotencyKey: nil)
        return (outcome, try await batchID)
    }

    @Sendable func read(_ request: Request, context: some RequestContext) async throws -> Response {
        guard let list = request.uri.queryParameters.get("task_ids") else {
            throw APIError(.badRequest, "task_ids is required: a comma-separated list of task ids")
        }
        let ids = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !ids.isEmpty else { throw APIError(.badRequest, "task_ids is empty") }
        guard ids.count <= maxIDsPerRead else {
            throw APIError(.badRequest, "at most \(maxIDsPerRead) task ids per request; this one has \(ids.count)")
        }
        let records = try await store.tasks(ids: ids)
        var answer: [String: TaskSummary] = [:]
        for id in ids {
            answer[id] = records[id].map(TaskSummary.init) ?? .notFound
        }
        return try JSONBody.response(answer)
    }

    @Sendable func detail(_ request: Request, context: some RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let record = try await store.tasks(ids: [id])[id] else {
            throw APIError(.notFound, "task \(id) not found (unknown or expired)")
        }
        return try JSONBody.response(TaskDetail(record))
    }

    @Sendable func cancel(_ request: Request, context: some RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        switch try await store.cancel(id: id) {
        case .cancelled:
            return try JSONBody.response(["id": id, "status": TaskStatus.cancelled.rawValue])
        case .alreadyFinished(let status):
            throw APIError(.conflict, "task \(id) has already finished (\(status.rawValue)); only unfinished tasks can be cancelled")
        case .notFound:
            throw APIError(.notFound, "task \(id) not found (unknown or expired)")
        }
    }

    @Sendable func stats(_ request: Request, context: some RequestContext) async throws -> Response {
        let counts = try await store.counts()
        return try JSONBody.response(StatsResponse(
            queue: counts, workers: pool.workers, busyWorkers: pool.busyWorkers, tasksProcessed: pool.tasksProcessed))
    }
}
