import CoreMetrics
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PromptlineCore
import Synchronization

/// A client for an OpenAI-compatible chat-completions API (OpenAI, OpenRouter, vLLM,
/// Ollama, llama.cpp's server, …), the ``ChatBackend`` the workers send tasks to.
///
/// One client is meant to live as long as the process and to serve every worker at once:
/// it keeps a pool of up to ``Configuration/maxConnections`` keep-alive HTTP/1.1
/// connections to the upstream (``UpstreamConnectionPool``). Call ``shutdown()`` before the
/// process ends.
///
/// A call streams the answer by default (`stream: true`), reporting progress per token,
/// and succeeds only with a whole answer. Every failure is thrown as an ``UpstreamError``
/// whose message names the cause and never contains the API key.
package final class OpenAIClient: ChatBackend {
    /// How the client reaches the upstream.
    package struct Configuration: Sendable {
        /// The API's base URL; the client posts to `{baseURL}/chat/completions`.
        package var baseURL: String
        /// Sent as `Authorization: Bearer …` when set. Never logged or shown.
        package var apiKey: String?
        /// How long the upstream may keep us waiting: for a whole call that is not streamed,
        /// for the first token of a streamed one, and between two streamed tokens.
        package var timeout: Duration
        /// The longest a streamed call may run while tokens keep coming; `nil` for no limit
        /// beyond ``timeout`` per gap. (Set it to ``timeout`` to bound every call as a whole.)
        package var maximumStreamDuration: Duration?
        /// Ask for the answer as a stream of server-sent events.
        package var streaming: Bool
        /// Connections per upstream host. Calls beyond it wait for a free connection, and
        /// that wait counts against ``timeout``: set it to at least the number of workers.
        package var maxConnections: Int
        package init(
            baseURL: String = "https://api.openai.com/v1",
            apiKey: String? = nil,
            timeout: Duration = .seconds(30),
            maximumStreamDuration: Duration? = nil,
            streaming: Bool = true,
            maxConnections: Int = 64
        ) {
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.timeout = timeout
            self.maximumStreamDuration = maximumStreamDuration
            self.streaming = streaming
            self.maxConnections = maxConnections
        }

        /// What is wrong with this configuration, one line per problem; empty when it is usable.
        package func validate() -> [String] {
            var problems: [String] = []
            if UpstreamOrigin(baseURL) != nil, let url = URL(string: baseURL) {
                if url.user != nil || url.password != nil {
                    problems.append("the upstream URL must not contain credentials; set the API key instead")
                }
            } else {
                problems.append("the upstream URL must be an http:// or https:// URL with a host")
            }
            if let apiKey, apiKey.isEmpty || !Self.fitsAHeader(apiKey) {
                problems.append("the upstream API key is empty or contains spaces, control or non-ASCII characters")
            }
            if timeout <= .zero { problems.append("the upstream timeout must be more than 0 s") }
            if let maximumStreamDuration, maximumStreamDuration <= .zero {
                problems.append("the upstream stream duration limit must be more than 0 s")
            }
            if maxConnections < 1 { problems.append("the upstream connection limit must be at least 1") }
            return problems
        }

        /// Whether an API key can go into the `Authorization` header as it is.
        static func fitsAHeader(_ apiKey: String) -> Bool {
            apiKey.utf8.allSatisfy(UpstreamOrigin.isVisibleASCII)
        }
    }

    /// The most bytes read of a whole (non-streamed) answer.
    static let maximumAnswerBytes = 16 << 20
    /// The most bytes read of an error response's body.
    static let maximumErrorBodyBytes = 64 << 10

    package let configuration: Configuration
    /// The connections, or why there can be none (every call then fails with that error).
    let pool: Result<UpstreamConnectionPool, UpstreamError>
    private let logger: Logger
    let metrics: UpstreamMetrics
    /// The base URL's path without a trailing slash (`/v1`); requests go to `{basePath}{path}`.
    let basePath: String
    /// The upstream's `host:port`, for messages.
    let endpoint: String
    let headers: HTTPHeaders

    /// Creates a client with its own connection pool, sized by the configuration.
    /// `metricsFactory` receives each call's duration and each failure's class.
    package init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "promptline.upstream"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = UpstreamMetrics(factory: metricsFactory)
        let origin = UpstreamOrigin(configuration.baseURL)
        self.basePath = origin?.path ?? ""
        self.endpoint = origin?.endpoint ?? "the upstream"
        if let apiKey = configuration.apiKey, !Configuration.fitsAHeader(apiKey) {
            // The connections do not check each request's headers: this is the check. The
            // key is not quoted.
            self.pool = .failure(UpstreamError(
                .connectionFailed, message: "the upstream API key contains spaces, control or non-ASCII characters"))
        } else if let origin {
            do {
                self.pool = .success(try UpstreamConnectionPool(
                    configuration: .init(origin: origin, maxConnections: max(1, configuration.maxConnections), connectTimeout: configuration.timeout),
                    group: eventLoopGroup
                ))
            } catch {
                self.pool = .failure(UpstreamError(.connectionFailed, message: "TLS could not be set up for \(origin.endpoint): \(error)"))
            }
        } else {
            // The URL is not quoted: it may carry a password.
            self.pool = .failure(UpstreamError(.connectionFailed, message: "the upstream URL is not an http(s) URL with a host"))
        }

        var headers = HTTPHeaders()
        headers.add(name: "host", value: origin?.hostHeader ?? "")
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "accept", value: configuration.streaming ? "text/event-stream" : "application/json")
        headers.add(name: "user-agent", value: "promptline")
        if let apiKey = configuration.apiKey, !apiKey.isEmpty {
            headers.add(name: "authorization", value: "Bearer \(apiKey)")
        }
        self.headers = headers
    }

    /// Closes the idle connections and refuses new calls. Calls in flight finish or fail.
    package func shutdown() async throws {
        try? pool.get().shutdown()
    }

    /// Sends one request to `{basePath}{path}`; answers when the response's head arrived, or
    /// — `streaming` false — when its whole body did (up to ``maximumAnswerBytes``).
    /// The head must come within the timeout, and the body may not stall for twice that (a
    /// backstop: a worker's own timer, which names the cause, fires first).
    func send(_ method: HTTPMethod, path: String, streaming: Bool, body: ByteBuffer?, timeout: Duration) async throws -> UpstreamResponse {
        let pool = try pool.get()
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: basePath + path, headers: headers)
        head.headers.replaceOrAdd(name: "accept", value: streaming ? "text/event-stream" : "application/json")
        if let body { head.headers.add(name: "content-length", value: String(body.readableBytes)) }
        do {
            return try await pool.send(
                head, body: body, deadline: .now() + TimeAmount(timeout), stallTimeout: TimeAmount(configuration.timeout * 2 + .seconds(1)),
                wholeUpTo: streaming ? nil : Self.maximumAnswerBytes
            )
        } catch is NIOTooManyBytesError {
            throw Self.tooLarge(endpoint: endpoint, limit: Self.maximumAnswerBytes)
        } catch {
            throw Task.isCancelled ? CancellationError() : UpstreamError.transport(error, endpoint: endpoint)
        }
    }

    /// An answer larger than `limit` bytes.
    static func tooLarge(endpoint: String, limit: Int) -> UpstreamError {
        UpstreamError(.invalidResponse, message: "answer from \(endpoint) larger than \(limit >= 1 << 20 ? "\(limit >> 20) MiB" : "\(limit >> 10) KiB")")
    }

    package func complete(_ request: ChatRequest, progress: @escaping @Sendable (Int) -> Void) async throws -> TaskResult {
        guard request.temperature.isFinite else {
            throw UpstreamError(.invalidResponse, message: "the request could not be encoded as JSON: its temperature is not a number")
        }
        let body = ByteBuffer(bytes: ChatCompletionRequest(request, stream: configuration.streaming).json.canonicalBytes)
        let timer = AttemptTimer(
            timeout: configuration.timeout, limit: configuration.streaming ? configuration.maximumStreamDuration : nil
        )
        let start = ContinuousClock.now
        do {
            // The call races its timer: the transport's deadline ends when the response
            // head arrives, so it cannot bound the reading of a streamed body.
            let result = try await withThrowingTaskGroup(of: TaskResult.self) { group in
                group.addTask { try await self.send(body, timer: timer, progress: progress) }
                group.addTask { try await timer.expire() }
                defer { group.cancelAll() }
                return try await group.next()!
            }
            metrics.call(since: start, failure: nil)
            return result
        } catch let error as UpstreamError {
            let error = error.redacting(configuration.apiKey)
            metrics.call(since: start, failure: error)
            logger.debug(
                "upstream call failed",
                metadata: ["upstream": "\(endpoint)", "upstream.error": "\(error.kind)", "model": "\(request.model)"]
            )
            throw error
        }
    }

    /// One POST and the reading of its answer. Throws ``UpstreamError`` or `CancellationError`.
    private func send(_ body: ByteBuffer, timer: AttemptTimer, progress: @escaping @Sendable (Int) -> Void) async throws -> TaskResult {
        // A second past our own timer, which names the timeout; this one is only a backstop.
        let response = try await send(
            .POST, path: "/chat/completions", streaming: configuration.streaming, body: body, timeout: configuration.timeout + .seconds(1)
        )
        guard (200..<300).contains(response.head.status.code) else {
            let errorBody = try? await response.body.collect(upTo: Self.maximumErrorBodyBytes)
            try Task.checkCancellation()
            throw UpstreamError.httpStatus(
                Int(response.head.status.code), reason: response.head.status.reasonPhrase, headers: response.head.headers, body: errorBody
            )
        }
        let contentType = response.head.headers.first(name: "content-type")?.lowercased() ?? ""
        if configuration.streaming && !contentType.contains("json") {
            return try await readStream(response.body, timer: timer, progress: progress)
        }
        return try await readAnswer(response.body)
    }

    /// Reads a whole `chat.completion` body.
    private func readAnswer(_ body: UpstreamBody) async throws -> TaskResult {
        let bytes: ByteBuffer
        do {
            bytes = try await body.collect(upTo: Self.maximumAnswerBytes)
        } catch is NIOTooManyBytesError {
            throw Self.tooLarge(endpoint: endpoint, limit: Self.maximumAnswerBytes)
        } catch {
            throw Task.isCancelled ? CancellationError() : UpstreamError.transport(error, endpoint: endpoint)
        }
        let data = Data(bytes.readableBytesView)
        let decoder = JSONDecoder()
        guard let completion = try? decoder.decode(ChatCompletion.self, from: data) else {
            if let failure = try? decoder.decode(OpenAIErrorResponse.self, from: data) {
                throw UpstreamError.embedded(failure.error)
            }
            let text = UpstreamError.snippet(String(decoding: data, as: UTF8.self), limit: 120)
            throw UpstreamError(.invalidResponse, message: "answer is not a chat completion: \(text.isEmpty ? "empty body" : text)")
        }
        guard let choice = completion.choices.first(where: { ($0.index ?? 0) == 0 }) ?? completion.choices.first,
              let content = choice.message.content
        else {
            throw UpstreamError(.invalidResponse, message: "answer has no message content")
        }
        return TaskResult(content: content, usage: completion.usage, model: completion.model)
    }

    /// Reads a `text/event-stream` body, event by event, until `[DONE]` and the body's end.
    private func readStream(
        _ body: UpstreamBody, timer: AttemptTimer, progress: @escaping @Sendable (Int) -> Void
    ) async throws -> TaskResult {
        var parser = ServerSentEventParser()
        var answer = ChatStreamAccumulator()
        func consume(_ events: [ServerSentEvent]) throws {
            for event in events {
                timer.eventArrived()
                if try answer.consume(event) { progress(answer.tokens) }
                if answer.sawDone {
                    // Keep reading to the body's end, so the connection can be used again.
                    timer.answerCompleted(answer.result)
                    return
                }
            }
        }
        do {
            for try await chunk in body where !answer.sawDone {
                try consume(try parser.feed(chunk))
            }
        } catch let error as UpstreamError {
            throw error
        } catch let error as ServerSentEventParser.Error {
            throw UpstreamError(.invalidResponse, message: "stream from \(endpoint) sent a \(error)")
        } catch {
            if Task.isCancelled { throw CancellationError() }
            if answer.sawDone { return answer.result }
            let cause = UpstreamError.transport(error, endpoint: endpoint)
            if cause.code == .timedOut { throw cause }
            throw incomplete(answer, cause: cause.message)
        }
        if !answer.sawDone {
            do {
                try consume(parser.finish())
            } catch let error as UpstreamError where error.code == .invalidResponse {
                throw incomplete(answer, cause: "its last event was cut off")
            }
        }
        guard answer.isComplete else { throw incomplete(answer, cause: nil) }
        return answer.result
    }

    private func incomplete(_ answer: ChatStreamAccumulator, cause: String?) -> UpstreamError {
        var message = "stream ended before completion after \(answer.tokens) tokens"
        if let cause { message += " (\(cause))" }
        return UpstreamError(.incompleteStream, message: message)
    }

    /// `host:port` of a URL, with the scheme's default port.
    static func endpoint(of url: String) -> String {
        UpstreamOrigin(url)?.endpoint ?? "the upstream"
    }
}

extension OpenAIClient.Configuration: CustomStringConvertible, CustomReflectable {
    package var description: String {
        "OpenAIClient.Configuration(baseURL: \(baseURL), apiKey: \(apiKey == nil ? "none" : "set"), "
            + "timeout: \(timeout), streaming: \(streaming), maxConnections: \(maxConnections))"
    }

    /// Shows whether a key is set, never the key.
    package var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "baseURL": baseURL, "apiKey": apiKey == nil ? "none" : "set", "timeout": timeout,
                "maximumStreamDuration": maximumStreamDuration as Any, "streaming": streaming,
                "maxConnections": maxConnections,
            ],
            displayStyle: .struct
        )
    }
}
