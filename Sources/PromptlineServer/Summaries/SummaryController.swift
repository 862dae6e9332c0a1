import Foundation
import Hummingbird
import PromptlineCore

/// `/api/summaries`: summaries of documents and texts, as jobs on the one queue. With API
/// keys, a summary belongs to the key that asked for it; other keys are told it does not exist.
struct SummaryController: Sendable {
    let service: SummaryService
    let maxBodySize: Int
    /// Where a summary's `webhook_url` is kept for the webhook dispatcher; `nil` (or no
    /// webhook secret) refuses `webhook_url`.
    let submissions: Submissions?
    let acceptsWebhooks: Bool
    /// Checks where a `webhook_url` leads: nothing inside unless allowed.
    let webhooks: WebhookResolver

    func addRoutes(to router: Router<PromptlineRequestContext>) {
        router.post("/api/summaries", use: create)
        router.get("/api/summaries/{id}", use: read)
        router.delete("/api/summaries/{id}", use: cancel)
    }

    @Sendable func create(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(SummaryRequest.self, from: request, limit: maxBodySize)
        if let url = body.webhookURL {
            guard acceptsWebhooks, submissions != nil else {
                throw APIError(.unprocessableContent, "webhook_url: this server signs no webhooks (it has no --webhook-secret / PROMPTLINE_WEBHOOK_SECRET); ask without webhook_url, or ask its operator to set a secret")
            }
            try await webhooks.check(url)
        }
        let (id, duplicate) = try await service.create(body, owner: context.owner, visible: context.maySee(ownedBy:))
        if let url = body.webhookURL, let submissions {
            // One POST when the summary's task has finished: a submission of that one task.
            _ = try await submissions.record(taskIDs: [SummaryTaskID.root(id)], webhookURL: url, owner: context.owner)
        }
        return try JSONBody.response(
            SummaryCreated(summaryID: id, duplicate: duplicate ? true : nil), status: duplicate ? .ok : .accepted
        )
    }

    @Sendable func read(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let record = try await visibleRecord(context)
        return try JSONBody.response(try await service.view(of: record))
    }

    @Sendable func cancel(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let record = try await visibleRecord(context)
        switch try await service.cancel(record) {
        case .cancelled:
            return try JSONBody.response(try await service.view(of: record))
        case .alreadyFinished(let status):
            throw APIError(.conflict, "summary \(record.id) has already finished (\(status.rawValue))")
        case .notFound:
            throw APIError(.notFound, "no summary \(record.id) (unknown or expired)")
        }
    }

    private func visibleRecord(_ context: PromptlineRequestContext) async throws -> SummaryRecord {
        let id = try context.parameters.require("id")
        guard let record = try await service.record(id), context.maySee(ownedBy: record.owner) else {
            throw APIError(.notFound, "no summary \(id) (unknown or expired)")
        }
        return record
    }
}
