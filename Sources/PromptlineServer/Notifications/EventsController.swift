import Foundation
import HTTPTypes
import Hummingbird
import PromptlineCore

/// `GET /api/tasks/events?task_ids=a,b,c`, `?batch_id=ID` or `?summary_id=ID`: the status
/// changes of those tasks as server-sent events, until all have finished
/// (``TaskEventStream``). A summary's tasks are its own and its documents' steps
/// (`summary:ID`, `summary:ID:0`, …). With API keys, another key's tasks read as
/// `not_found` and another key's batch or summary as unknown.
struct EventsController: Sendable {
    let store: any TaskStore
    /// Where `batch_id`s are looked up; without it, only `task_ids` work.
    let submissions: Submissions?
    /// Where `summary_id`s are looked up.
    var summaries: SummaryService?
    var configuration = TaskEventStream.Configuration()
    /// At most this many tasks in one stream: the largest submission.
    var maxIDsPerStream = 50_000

    func addRoutes(to router: Router<PromptlineRequestContext>) {
        router.get("/api/tasks/events", use: events)
    }

    @Sendable func events(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let ids = try await requestedIDs(request, context: context)
        var stream = TaskEventStream(ids: ids, configuration: configuration, read: reader(for: context))
        // The first read happens before the answer, so a store that is down gets a 503.
        let first = try await stream.poll()
        let logger = context.logger
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("x-accel-buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody { [stream] writer in
            var stream = stream
            let ending = await stream.run(first: first) { try await writer.write($0) }
            logger.debug("event stream ended", metadata: ["tasks": "\(ids.count)", "reason": "\(ending.rawValue)"])
            // Fails only when the client has gone, and then there is no one to tell.
            try? await writer.finish(nil)
        })
    }

    /// The one way a stream reads tasks: every id it names, its batch's included, is read
    /// here. A task the caller may not see must be left out of the answer, so that it reads
    /// as `not_found`.
    func reader(for context: PromptlineRequestContext) -> TaskEventStream.Reader {
        let store = self.store
        return { ids in try await store.tasks(ids: ids).filter { context.maySee(ownedBy: $0.value.owner) } }
    }

    private func requestedIDs(_ request: Request, context: PromptlineRequestContext) async throws -> [String] {
        let parameters = request.uri.queryParameters
        if let summaryID = parameters.get("summary_id") {
            guard parameters.get("task_ids") == nil, parameters.get("batch_id") == nil else {
                throw APIError(.badRequest, "give one of task_ids, batch_id or summary_id")
            }
            guard let summaries, let record = try await summaries.record(summaryID), context.maySee(ownedBy: record.owner) else {
                throw APIError(.notFound, "summary \(summaryID) not found (unknown or expired)")
            }
            return [SummaryTaskID.root(summaryID)] + record.documents.indices.map { SummaryTaskID.document(summaryID, $0) }
        }
        let ids: [String]
        switch (parameters.get("task_ids"), parameters.get("batch_id")) {
        case (let list?, nil):
            ids = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !ids.isEmpty else { throw APIError(.badRequest, "task_ids is empty") }
        case (nil, let batchID?):
            guard let submissions, let (submission, _) = try await submissions.submission(batchID),
                context.maySee(ownedBy: submission.owner)
            else {
                throw APIError(.notFound, "batch \(batchID) not found (unknown or expired)")
            }
            ids = submission.taskIDs
        case (nil, nil):
            throw APIError(.badRequest, "task_ids (a comma-separated list of task ids), batch_id or summary_id is required")
        case (_?, _?):
            throw APIError(.badRequest, "give task_ids or batch_id, not both")
        }
        guard ids.count <= maxIDsPerStream else {
            throw APIError(.badRequest, "at most \(maxIDsPerStream) tasks per event stream; this one names \(ids.count) (split them over several streams)")
        }
        return ids
    }
}
