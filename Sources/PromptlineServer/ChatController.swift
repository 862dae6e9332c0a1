import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OpenAIUpstream
import PromptlineCore

/// The OpenAI-compatible API: `POST /v1/chat/completions`, `POST /v1/embeddings` and
/// `GET /v1/models`, relayed to the upstream.
///
/// Bodies go upstream as the client wrote them (only the `cache` opt-out is taken out), so
/// every OpenAI parameter works. A streamed answer is relayed event by event as it arrives;
/// a stall longer than the upstream timeout, or an end before `[DONE]`, ends the stream
/// with an OpenAI-style error event. Upstream errors keep their status and come back in
/// OpenAI's error shape. Plain answers (chat and embeddings alike) are served from the
/// response cache when they can be. The calls share the upstream's rate-limit gate with the
/// workers, and count against a key's token limits.
struct ChatController: Sendable {
    let client: OpenAIClient
    let cache: ResponseCache
    let gate: RateLimitGate<ContinuousClock>
    let defaultModel: String
    let maxBodySize: Int
    /// The global limits on prompt length and `max_tokens`.
    let policy: SubmitPolicy
    /// The per-key token limits; `nil` where there are no keys at all.
    let access: AccessControl?

    static let cacheHeader = HTTPField.Name("x-promptline-cache")!

    func addRoutes(to router: Router<PromptlineRequestContext>) {
        router.post("/v1/chat/completions", use: chatCompletion)
        router.post("/v1/embeddings", use: embeddings)
        router.get("/v1/models", use: models)
    }

    @Sendable func chatCompletion(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let buffer = try await JSONBody.collect(request, limit: maxBodySize)
        var body = try Self.chatBody(buffer)
        try await access?.admitWork(by: context.caller, tasks: 0, tokens: try Self.tokens(of: body, policy: policy))
        let (forwarded, cacheable) = try Self.forwarded(&body, as: buffer, headers: request.headers, defaultModel: defaultModel)
        if body["stream"] == .bool(true) {
            cache.noteBypass()
            return try await relayStream(forwarded, context: context)
        }
        return try await relayWhole(
            forwarded, path: "/chat/completions", cacheKey: cacheable && cache.isEnabled ? CachingChatBackend.key(of: body, scope: policy.cacheScope(of: context.owner)) : nil
        )
    }

    /// `POST /v1/embeddings`: relayed as it is, `encoding_format` included, so a `base64`
    /// answer (the official Python SDK's default) reaches the client as the upstream wrote it.
    @Sendable func embeddings(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let buffer = try await JSONBody.collect(request, limit: maxBodySize)
        var body = try Self.embeddingsBody(buffer)
        try await access?.admitWork(by: context.caller, tasks: 0, tokens: try Self.embeddingTokens(of: body, policy: policy))
        let (forwarded, cacheable) = try Self.forwarded(&body, as: buffer, headers: request.headers)
        // Prefixed, so an embeddings answer can never be taken for a chat one.
        return try await relayWhole(
            forwarded, path: "/embeddings", cacheKey: cacheable && cache.isEnabled ? "embeddings " + CachingChatBackend.key(of: body, scope: policy.cacheScope(of: context.owner)) : nil
        )
    }

    @Sendable func models(_ request: Request, context: some RequestContext) async throws -> Response {
        let relayed = try await upstreamCall { try await client.relay(.GET, path: "/models", body: nil, streaming: false) }
        return try Self.response(relayed, outcome: nil).response
    }

    // MARK: - Relaying

    /// While the upstream has asked every caller to wait, wait too — unless the wait is
    /// longer than a call may take, then say so at once.
    private func waitForGate() async throws {
        guard let reopensAt = gate.closedUntil else { return }
        let wait = reopensAt - .now
        guard wait <= client.configuration.timeout else {
            var headers = HTTPFields()
            headers[.retryAfter] = String(Int(wait.seconds.rounded(.up)))
            throw APIError(.tooManyRequests, "the upstream asked for a pause of \(Int(wait.seconds.rounded(.up))) s; try again then", headers: headers)
        }
        try await gate.waitUntilOpen()
    }

    private func send(_ body: ByteBuffer, path: String, streaming: Bool) async throws -> RelayedResponse {
        try await waitForGate()
        let relayed = try await upstreamCall { try await client.relay(.POST, path: path, body: body, streaming: streaming) }
        if let wait = relayed.failure?.retryAfter { gate.pause(for: wait) }
        return relayed
    }

    /// Runs an upstream call; when no answer came, answers 502 or 504 naming the cause.
    private func upstreamCall(_ call: () async throws -> RelayedResponse) async throws -> RelayedResponse {
        do {
            return try await call()
        } catch let error as UpstreamError {
            throw APIError.upstream(error)
        }
    }

    /// Relays a plain (not streamed) call; with a `cacheKey` (given only when the cache is on:
    /// the key costs a hash of the body), answers from the response cache when it can, and
    /// keeps a successful JSON answer there.
    private func relayWhole(_ body: ByteBuffer, path: String, cacheKey: String?) async throws -> Response {
        guard let cacheKey, cache.isEnabled else {
            cache.noteBypass()
            return try Self.response(try await send(body, path: path, streaming: false), outcome: .bypass).response
        }
        // The leader's own answer, which may be an error the cache does not keep.
        var own: Response?
        let (answer, outcome) = try await cache.answer(for: cacheKey) {
            let relayed = try await send(body, path: path, streaming: false)
            let (response, bytes) = try Self.response(relayed, outcome: .miss)
            own = response
            let keep = relayed.status == 200 && relayed.contentType?.lowercased().contains("json") == true
            return (.body(Array(bytes.readableBytesView)), keep)
        }
        if outcome == .miss, let own { return own }
        switch answer {
        case .body(let bytes):
            return Self.jsonResponse(status: .ok, ByteBuffer(bytes: bytes), outcome: outcome)
        case .result(let result):
            // A task's answer, under a chat key: given the shape of a chat completion now.
            return Self.jsonResponse(status: .ok, ByteBuffer(bytes: try JSONBody.encoder.encode(ChatCompletion(result))), outcome: outcome)
        }
    }

    private func relayStream(_ body: ByteBuffer, context: some RequestContext) async throws -> Response {
        let relayed = try await send(body, path: "/chat/completions", streaming: true)
        guard case .events(let events) = relayed.body else {
            return try Self.response(relayed, outcome: .bypass).response
        }
        let client = self.client
        let logger = context.logger
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[Self.cacheHeader] = ResponseCache.Outcome.bypass.rawValue
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                try await client.relayEvents(of: events) { chunk in try await writer.write(chunk) }
            } catch let error as UpstreamError {
                logger.notice("streamed answer ended early", metadata: ["error_kind": "\(error.kind)"])
                let code = error.code == .timedOut ? "upstream_timeout" : "stream_incomplete"
                var event = ByteBuffer(string: "data: ")
                event.writeBytes(try JSONBody.encoder.encode(OpenAIErrorBody(error: .init(
                    message: "upstream: \(error.description)", type: "upstream_error", code: code))))
                event.writeString("\n\n")
                try await writer.write(event)
            }
            try await writer.finish(nil)
        })
    }

    // MARK: - Bodies

    /// Reads a chat request body: a JSON object with a non-empty `messages` list.
    static func chatBody(_ buffer: ByteBuffer) throws -> [String: JSONValue] {
        let body = try object(buffer)
        guard let messages = body["messages"]?.array, !messages.isEmpty else {
            throw APIError(.badRequest, "messages: required, a non-empty list of messages")
        }
        if let model = body["model"], model.string?.isEmpty ?? true {
            throw APIError(.badRequest, "model: expected a non-empty string")
        }
        switch body["stream"] {
        case nil, .null?, .bool?: break
        default: throw APIError(.badRequest, "stream: expected true or false")
        }
        return body
    }

    /// A request body that must be a JSON object.
    private static func object(_ buffer: ByteBuffer) throws -> [String: JSONValue] {
        let parsed: JSONValue
        do {
            parsed = try buffer.withUnsafeReadableBytes { try JSONValue.parse($0.bindMemory(to: UInt8.self)) }
        } catch {
            throw APIError(.badRequest, "request body is not valid JSON: \(error)")
        }
        guard case .object(let body) = parsed else { throw APIError(.badRequest, "request body must be a JSON object") }
        return body
    }

    /// Checks a chat body against the global limits on prompt length and `max_tokens`, and
    /// answers the tokens it may use (``TokenEstimate``): its text, and the answer's limit.
    static func tokens(of body: [String: JSONValue], policy: SubmitPolicy) throws -> Int {
        var characters = 0
        var bytes = 0
        for message in body["messages"]?.array ?? [] {
            let content = message.object?["content"]
            let texts = content?.string.map { [$0] } ?? (content?.array ?? []).compactMap { $0.object?["text"]?.string }
            for text in texts {
                characters += text.count
                bytes += text.utf8.count
            }
        }
        guard characters <= policy.maxPromptLength else {
            throw APIError(.contentTooLarge, "messages have \(characters) characters, more than the \(policy.maxPromptLength) a prompt may have: shorten them, or raise the limit with \(Setting.maxPromptLength.named)")
        }
        var answerTokens = 0
        for field in ["max_tokens", "max_completion_tokens"] {
            guard let value = body[field]?.int else { continue }
            guard value <= policy.maxTokensCeiling else {
                throw APIError(.badRequest, "\(field) is \(value), over this server's ceiling of \(policy.maxTokensCeiling): lower it, or raise the ceiling with \(Setting.maxTokensLimit.named)")
            }
            answerTokens = max(answerTokens, value)
        }
        return TokenEstimate.prompt(bytes: bytes) + answerTokens
    }

    /// Reads an embeddings request body: a `model`, and an `input` that is a non-empty
    /// string, a list of them, or tokens (a list of integers, or of lists of integers).
    static func embeddingsBody(_ buffer: ByteBuffer) throws -> [String: JSONValue] {
        let body = try object(buffer)
        guard let model = body["model"]?.string, !model.isEmpty else {
            throw APIError(.badRequest, "model: required, the name of an embedding model")
        }
        let isText: (JSONValue) -> Bool = { !($0.string?.isEmpty ?? true) }
        let isTokens: (JSONValue) -> Bool = { $0.array.map { !$0.isEmpty && $0.allSatisfy { $0.int != nil } } ?? false }
        switch body["input"] {
        case let input? where isText(input) || isTokens(input): break
        case .array(let inputs)? where !inputs.isEmpty && (inputs.allSatisfy(isText) || inputs.allSatisfy(isTokens)): break
        default:
            throw APIError(.badRequest, "input: required, a non-empty string, a non-empty list of non-empty strings, or tokens (a list of integers or of lists of them)")
        }
        switch body["encoding_format"] {
        case nil, .string("float")?, .string("base64")?: break
        default: throw APIError(.badRequest, "encoding_format: expected \"float\" or \"base64\"")
        }
        if let dimensions = body["dimensions"], (dimensions.int ?? 0) < 1 {
            throw APIError(.badRequest, "dimensions: expected a positive integer")
        }
        return body
    }

    /// Checks each input of an embeddings body against the global limit on prompt length,
    /// and answers the tokens the inputs count for (``TokenEstimate``; a token given as one).
    static func embeddingTokens(of body: [String: JSONValue], policy: SubmitPolicy) throws -> Int {
        let input = body["input"] ?? .null
        let inputs = input.string != nil || input.array?.first?.int != nil ? [input] : input.array ?? []
        var tokens = 0
        for input in inputs {
            guard let text = input.string else {
                tokens += input.array?.count ?? 0
                continue
            }
            guard text.count <= policy.maxPromptLength else {
                throw APIError(.contentTooLarge, "an input has \(text.count) characters, more than the \(policy.maxPromptLength) a prompt may have: shorten it, or raise the limit with \(Setting.maxPromptLength.named)")
            }
            tokens += TokenEstimate.prompt(bytes: text.utf8.count)
        }
        return tokens
    }

    /// The body to send upstream, without Promptline's own `cache` opt-out and with
    /// `defaultModel` when it names none (re-encoded only when something changed), and whether
    /// its answer may come from the cache: not when `cache` is false or `Cache-Control` says
    /// `no-cache` or `no-store`.
    static func forwarded(
        _ body: inout [String: JSONValue], as buffer: ByteBuffer, headers: HTTPFields, defaultModel: String? = nil
    ) throws -> (body: ByteBuffer, cacheable: Bool) {
        var cacheable = !(headers[.cacheControl].map { $0.contains("no-cache") || $0.contains("no-store") } ?? false)
        var changed = false
        if let cache = body.removeValue(forKey: "cache") {
            guard case .bool(let flag) = cache else { throw APIError(.badRequest, "cache: expected true or false") }
            cacheable = cacheable && flag
            changed = true
        }
        if body["model"] == nil, let defaultModel {
            body["model"] = .string(defaultModel)
            changed = true
        }
        return (changed ? encode(body) : buffer, cacheable)
    }

    static func encode(_ body: [String: JSONValue]) -> ByteBuffer {
        ByteBuffer(bytes: JSONValue.object(body).canonicalBytes)
    }

    /// The client's response to a whole upstream answer, and the body it carries: the
    /// upstream's own, or — for an error that is not in OpenAI's shape — one that is.
    static func response(_ relayed: RelayedResponse, outcome: ResponseCache.Outcome?) throws -> (response: Response, body: ByteBuffer) {
        guard case .whole(var body) = relayed.body else { throw APIError(.badGateway, "upstream answered a stream to a plain request") }
        let status = HTTPResponse.Status(code: relayed.status)
        var response: Response
        if let failure = relayed.failure {
            if !isOpenAIError(body) {
                body = ByteBuffer(bytes: try JSONBody.encoder.encode(OpenAIErrorBody(error: .init(
                    message: "upstream: \(failure.description)", type: APIError.openAIType(for: status), code: failure.errorType))))
            }
            response = jsonResponse(status: status, body, outcome: outcome)
            if let wait = failure.retryAfter {
                response.headers[.retryAfter] = String(max(1, Int(wait.seconds.rounded(.up))))
            }
        } else {
            response = jsonResponse(status: status, body, outcome: outcome)
            if let contentType = relayed.contentType { response.headers[.contentType] = contentType }
        }
        return (response, body)
    }

    static func jsonResponse(status: HTTPResponse.Status, _ body: ByteBuffer, outcome: ResponseCache.Outcome?) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let outcome { headers[cacheHeader] = outcome.rawValue }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    private static func isOpenAIError(_ body: ByteBuffer) -> Bool {
        guard let parsed = try? body.withUnsafeReadableBytes({ try JSONValue.parse($0.bindMemory(to: UInt8.self)) }),
              case .object(let detail)? = parsed["error"]
        else { return false }
        return detail["message"]?.string != nil
    }
}
