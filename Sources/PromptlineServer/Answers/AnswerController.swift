import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OpenAIUpstream
import PromptlineCore

/// `POST /api/answers`: a question answered from the caller's vector stores, with the
/// chunks it was answered from as `citations`. Plain, or with `stream: true` the
/// upstream's chat-completion chunks as server-sent events, then one `event: citations`
/// before the closing `data: [DONE]`.
struct AnswerController: Sendable {
    /// `nil` without a vector index this instance may use.
    let service: AnswerService?
    let client: OpenAIClient
    let gate: RateLimitGate<ContinuousClock>
    let policy: SubmitPolicy
    let maxBodySize: Int
    let access: AccessControl?

    func addRoutes(to router: Router<PromptlineRequestContext>) {
        router.post("/api/answers", use: offLoop(answer))
    }

    @Sendable func answer(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        guard let service else {
            throw APIError(.serviceUnavailable, "answers need a vector index every instance shares: start the server with \(Setting.vectorURL.named) postgres://…")
        }
        let body = try await JSONBody.decode(AnswerRequest.self, from: request, limit: maxBodySize)
        let question = body.question.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !question.isEmpty else { throw APIError(.unprocessableContent, "question: required, not empty") }
        guard question.count <= policy.maxPromptLength else { throw APIError(.contentTooLarge, "question: longer than \(policy.maxPromptLength) characters") }
        let limit = body.maxNumResults ?? AnswerService.defaultMaxResults
        guard AnswerService.maxResultsRange.contains(limit) else {
            throw APIError(.unprocessableContent, "max_num_results: from 1 to \(AnswerService.maxResultsRange.upperBound)")
        }
        let maxTokens = body.maxTokens ?? policy.defaultMaxTokens
        guard (1...policy.maxTokensCeiling).contains(maxTokens) else { throw APIError(.unprocessableContent, "max_tokens: from 1 to \(policy.maxTokensCeiling)") }
        let temperature = body.temperature ?? policy.defaultTemperature
        guard (0...2).contains(temperature) else { throw APIError(.unprocessableContent, "temperature: from 0 to 2") }
        let records = try await service.checkedStores(body.vectorStoreIDs, visible: context.maySee(ownedBy:), at: "vector_store_ids")
        let citations: [Citation]
        do {
            citations = try await service.citations(for: question, in: records, limit: limit)
        } catch let error as UpstreamError {
            throw APIError.upstream(error, "upstream embeddings")
        }
        let chat = ChatRequest(
            model: body.model ?? policy.defaultModel, messages: AnswerService.messages(question: question, citations: citations),
            maxTokens: maxTokens, temperature: temperature, cacheable: false
        )
        try await access?.admitWork(by: context.caller, tasks: 0, tokens: TokenEstimate.of([chat]))
        try await gate.waitUntilOpen()
        if body.stream == true { return try await stream(chat, citations: citations, context: context) }
        do {
            let result = try await client.complete(chat) { _ in }
            return try JSONBody.response(AnswerResponse(answer: result.content, citations: citations, usage: result.usage, model: result.model))
        } catch let error as UpstreamError {
            if let wait = error.retryAfter { gate.pause(for: wait) }
            throw APIError.upstream(error)
        }
    }

    private func stream(_ chat: ChatRequest, citations: [Citation], context: PromptlineRequestContext) async throws -> Response {
        let body = ByteBuffer(bytes: ChatCompletionRequest(chat, stream: true).json.canonicalBytes)
        let relayed: RelayedResponse
        do {
            relayed = try await client.relay(.POST, path: "/chat/completions", body: body, streaming: true)
        } catch let error as UpstreamError {
            throw APIError.upstream(error)
        }
        guard case .events(let events) = relayed.body else {
            if let wait = relayed.failure?.retryAfter { gate.pause(for: wait) }
            throw APIError(.badGateway, "upstream: \(relayed.failure?.description ?? "answered without a stream")")
        }
        var citationsEvent = ByteBuffer(string: "event: citations\ndata: ")
        citationsEvent.writeBytes(try JSONBody.encoder.encode(["citations": citations]))
        citationsEvent.writeString("\n\n")
        let client = self.client
        let logger = context.logger
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody { [citationsEvent] writer in
            do {
                try await client.relayEvents(of: events, beforeDone: citationsEvent) { chunk in try await writer.write(chunk) }
            } catch let error as UpstreamError {
                logger.notice("streamed answer ended early", metadata: ["error_kind": "\(error.kind)"])
                var event = ByteBuffer(string: "event: error\ndata: ")
                event.writeBytes(try JSONBody.encoder.encode(["error": "upstream: \(error.description)"]))
                event.writeString("\n\n")
                try await writer.write(event)
            }
            try await writer.finish(nil)
        })
    }
}
