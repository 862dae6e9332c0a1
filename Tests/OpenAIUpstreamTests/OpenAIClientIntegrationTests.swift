import Foundation
import Logging
import MockUpstream
import PromptlineCore
import Synchronization
import Testing

@testable import OpenAIUpstream

/// The client against the in-process mock upstream.
@Suite struct OpenAIClientIntegrationTests {
    static func withClient(
        streaming: Bool = true, timeout: Duration = .seconds(10), apiKey: String? = nil,
        _ body: (OpenAIClient, MockUpstreamServer) async throws -> Void
    ) async throws {
        var mockConfiguration = MockUpstreamConfiguration()
        mockConfiguration.port = 0
        let mock = try await MockUpstreamServer.start(mockConfiguration)
        let client = OpenAIClient(
            configuration: .init(
                baseURL: "http://127.0.0.1:\(mock.port)/v1/", apiKey: apiKey, timeout: timeout, streaming: streaming,
                maxConnections: 8
            )
        )
        do {
            try await body(client, mock)
        } catch {
            try await client.shutdown()
            try await mock.shutdown()
            throw error
        }
        try await client.shutdown()
        try await mock.shutdown()
    }

    static func request(_ prompt: String, maxTokens: Int = 100) -> ChatRequest {
        ChatRequest(
            model: "mock-model",
            messages: [ChatMessage(role: "system", content: "be brief"), ChatMessage(role: "user", content: prompt)],
            maxTokens: maxTokens, temperature: 0.7
        )
    }

    /// The `UpstreamError` a call throws (recording an issue when it does not throw one).
    static func failure(
        of client: OpenAIClient, _ prompt: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async -> UpstreamError? {
        do {
            let result = try await client.complete(request(prompt)) { _ in }
            Issue.record("expected an error, got \(result)", sourceLocation: sourceLocation)
        } catch let error as UpstreamError {
            return error
        } catch {
            Issue.record("expected an UpstreamError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    @Test func plainEcho() async throws {
        try await Self.withClient(streaming: false) { client, mock in
            let result = try await client.complete(Self.request("hello plain world")) { _ in }
            #expect(result.content == "echo: hello plain world")
            #expect(result.model == "mock-model")
            #expect(result.usage?.completionTokens == 4)
            #expect(mock.calls(forPrompt: "hello plain world") == 1)
        }
    }

    @Test func streamingEchoReportsProgressPerToken() async throws {
        try await Self.withClient { client, mock in
            let reported = Mutex<[Int]>([])
            let result = try await client.complete(Self.request("one two three four")) { tokens in
                reported.withLock { $0.append(tokens) }
            }
            #expect(result.content == "echo: one two three four")
            #expect(reported.withLock { $0 } == [1, 2, 3, 4, 5])
            #expect(result.usage?.completionTokens == 5)
            #expect(result.model == "mock-model")
        }
    }

    @Test func aTruncatedStreamThatFinishedIsWhole() async throws {
        try await Self.withClient { client, _ in
            let result = try await client.complete(Self.request("a b c d e f", maxTokens: 3)) { _ in }
            #expect(result.content == "echo: a b")
        }
    }

    @Test func manyConcurrentCallsShareThePool() async throws {
        // 200 calls queue for 8 connections: on a loaded machine the last ones wait long.
        try await Self.withClient(timeout: .seconds(120)) { client, _ in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let result = try await client.complete(Self.request("call \(index)")) { _ in }
                        return result.content == "echo: call \(index)"
                    }
                }
                var correct = 0
                for try await ok in group where ok { correct += 1 }
                #expect(correct == 200)
            }
        }
    }

    @Test(arguments: [true, false])
    func serverErrorsAreStatusErrors(streaming: Bool) async throws {
        try await Self.withClient(streaming: streaming) { client, mock in
            let prompt = "fail twice [[mock:status=500,times=2]]"
            let first = await Self.failure(of: client, prompt)
            #expect(first?.code == .status(500))
            #expect(first?.isRetryable == true)
            #expect(first.map { !$0.message.isEmpty } == true)
            #expect(await Self.failure(of: client, prompt)?.code == .status(500))
            let third = try await client.complete(Self.request(prompt)) { _ in }
            #expect(third.content == "echo: \(prompt)")
            #expect(mock.calls(forPrompt: prompt) == 3)
        }
    }

    @Test func rateLimitsCarryRetryAfter() async throws {
        try await Self.withClient { client, _ in
            let error = await Self.failure(of: client, "slow down [[mock:status=429,retry_after_ms=1500]]")
            #expect(error?.code == .status(429))
            #expect(error?.retryAfter == .milliseconds(1500))
            #expect(error?.isRateLimit == true)
            #expect(error?.isRetryable == true)
        }
    }

    @Test func insufficientQuotaIsNotRetryable() async throws {
        try await Self.withClient { client, _ in
            let error = await Self.failure(of: client, "pay up [[mock:status=429,type=insufficient_quota]]")
            #expect(error?.code == .status(429))
            #expect(error?.errorType == "insufficient_quota")
            #expect(error?.isRetryable == false)
        }
    }

    @Test func aCutStreamIsIncomplete() async throws {
        try await Self.withClient { client, _ in
            let reported = Mutex<[Int]>([])
            do {
                let result = try await client.complete(Self.request("cut me off please [[mock:cut]]")) { tokens in
                    reported.withLock { $0.append(tokens) }
                }
                Issue.record("a partial answer was returned: \(result)")
            } catch let error as UpstreamError {
                #expect(error.code == .incompleteStream)
                #expect(error.message.hasPrefix("stream ended before completion after 2 tokens"))
                #expect(error.isRetryable)
            }
            #expect(reported.withLock { $0 } == [1, 2])
        }
    }

    @Test func aCutPlainAnswerFails() async throws {
        try await Self.withClient(streaming: false) { client, _ in
            let error = await Self.failure(of: client, "cut me off please [[mock:cut]]")
            #expect(error?.isRetryable == true)
            #expect(error.map { $0.code == .connectionFailed || $0.code == .incompleteStream } == true)
        }
    }

    @Test(arguments: [true, false])
    func aResetIsAConnectionFailure(streaming: Bool) async throws {
        try await Self.withClient(streaming: streaming) { client, mock in
            let error = await Self.failure(of: client, "reset [[mock:reset]]")
            #expect(error?.code == .connectionFailed)
            #expect(error?.message.contains("127.0.0.1:\(mock.port)") == true)
        }
    }

    @Test func aStallMidStreamTimesOut() async throws {
        // Had the client waited out the stall, the answer would have completed: no timing check needed.
        // 4 s, not less: on a loaded machine the first token alone can take a second or two.
        try await Self.withClient(timeout: .seconds(4)) { client, _ in
            let error = await Self.failure(of: client, "wait [[mock:stall_ms=10000]]")
            #expect(error?.code == .timedOut)
            #expect(error?.message == "no token for 4 s")
        }
    }

    @Test func aStallBeforeThePlainAnswerTimesOut() async throws {
        try await Self.withClient(streaming: false, timeout: .seconds(2)) { client, _ in
            let error = await Self.failure(of: client, "wait [[mock:stall_ms=10000]]")
            #expect(error?.code == .timedOut)
            #expect(error?.message == "timed out after 2 s")
        }
    }

    @Test func aSlowButSteadyStreamIsNotCutByTheGapTimeout() async throws {
        try await Self.withClient(timeout: .seconds(4)) { client, _ in
            // 9 chunks 500 ms apart: longer than the timeout in all, never a gap as long
            // (the timeout leaves room for a first token that is slow on a loaded machine).
            let result = try await client.complete(Self.request("a b c d e f g [[mock:token_delay_ms=500]]")) { _ in }
            #expect(result.content.hasPrefix("echo: a b c d e f g"))
        }
    }

    @Test func theStreamDurationLimitBoundsAWholeStream() async throws {
        var mockConfiguration = MockUpstreamConfiguration()
        mockConfiguration.port = 0
        let mock = try await MockUpstreamServer.start(mockConfiguration)
        let client = OpenAIClient(
            configuration: .init(
                baseURL: "http://127.0.0.1:\(mock.port)/v1", timeout: .seconds(3),
                maximumStreamDuration: .seconds(1)
            )
        )
        let error = await Self.failure(of: client, "a b c d e f g [[mock:token_delay_ms=400]]")
        #expect(error?.code == .timedOut)
        #expect(error?.message == "timed out after 1 s")
        try await client.shutdown()
        try await mock.shutdown()
    }

    @Test func connectionRefusedNamesTheEndpoint() async throws {
        let port = try closedLoopbackPort()
        let client = OpenAIClient(configuration: .init(baseURL: "http://127.0.0.1:\(port)/v1", timeout: .seconds(5)))
        let error = await Self.failure(of: client, "anyone there?")
        #expect(error?.code == .connectionFailed)
        #expect(error?.message == "connection refused to 127.0.0.1:\(port)")
        #expect(error?.isRetryable == true)
        try await client.shutdown()
    }

    @Test func theKeyIsSentAsBearerAndNeverShown() async throws {
        let key = "sk-test-0123456789abcdef"
        let body = #"{"error":{"message":"Incorrect API key provided: \#(key).","type":"invalid_request_error","code":"invalid_api_key"}}"#
        let server = try OneShotHTTPServer(
            response: "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
                + "connection: close\r\n\r\n\(body)"
        )
        let logs = LogCapture()
        let client = OpenAIClient(
            configuration: .init(baseURL: "http://127.0.0.1:\(server.port)/v1", apiKey: key, timeout: .seconds(5)),
            logger: logs.logger
        )
        let error = await Self.failure(of: client, "who am I")
        try await client.shutdown()

        let request = try #require(server.request())
        #expect(request.hasPrefix("POST /v1/chat/completions HTTP/1.1\r\n"))
        #expect(request.lowercased().contains("authorization: bearer \(key)"))
        #expect(request.contains(#""stream":true"#))
        #expect(request.contains(#""include_usage":true"#))
        #expect(request.contains(#""max_tokens":100"#))

        #expect(error?.code == .status(401))
        #expect(error?.isRetryable == false)
        #expect(error?.message == "Incorrect API key provided: [redacted].")
        #expect(error.map { !"\($0)".contains(key) && !String(reflecting: $0).contains(key) } == true)
        #expect(!logs.text.contains(key))
        #expect(logs.text.contains("upstream call failed"))
    }

    @Test func noKeyNoAuthorizationHeader() async throws {
        let body = #"{"choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#
        let server = try OneShotHTTPServer(
            response: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
                + "connection: close\r\n\r\n\(body)"
        )
        let client = OpenAIClient(configuration: .init(baseURL: "http://127.0.0.1:\(server.port)/v1", streaming: false))
        let result = try await client.complete(Self.request("hi")) { _ in }
        try await client.shutdown()
        #expect(result == TaskResult(content: "hi"))
        let request = try #require(server.request())
        #expect(!request.lowercased().contains("authorization"))
        #expect(!request.contains(#""stream""#))
    }

    @Test func anUnreadableAnswerIsAnInvalidResponse() async throws {
        let body = "<html>not json</html>"
        let server = try OneShotHTTPServer(
            response: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
                + "connection: close\r\n\r\n\(body)"
        )
        let client = OpenAIClient(configuration: .init(baseURL: "http://127.0.0.1:\(server.port)/v1"))
        let error = await Self.failure(of: client, "hi")
        try await client.shutdown()
        _ = server.request()
        #expect(error?.code == .invalidResponse)
        #expect(error?.message.contains("<html>not json</html>") == true)
    }

    @Test func aStreamThatEndsWithoutDoneOrFinishIsIncomplete() async throws {
        let events = #"data: {"choices":[{"delta":{"content":"par"}}]}"# + "\n\n" + #"data: {"choices":[{"delta":{"content":"tial"}}]}"# + "\n\n"
        let server = try OneShotHTTPServer(
            response: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: \(events.utf8.count)\r\n"
                + "connection: close\r\n\r\n\(events)"
        )
        let client = OpenAIClient(configuration: .init(baseURL: "http://127.0.0.1:\(server.port)/v1"))
        let error = await Self.failure(of: client, "hi")
        try await client.shutdown()
        _ = server.request()
        #expect(error?.code == .incompleteStream)
        #expect(error?.message == "stream ended before completion after 2 tokens")
    }

    @Test func anErrorInsideTheStreamIsClassified() async throws {
        let events = #"data: {"choices":[{"delta":{"content":"a"}}]}"# + "\n\n"
            + #"data: {"error":{"message":"You exceeded your current quota","type":"insufficient_quota"}}"# + "\n\n"
        let server = try OneShotHTTPServer(
            response: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: \(events.utf8.count)\r\n"
                + "connection: close\r\n\r\n\(events)"
        )
        let client = OpenAIClient(configuration: .init(baseURL: "http://127.0.0.1:\(server.port)/v1"))
        let error = await Self.failure(of: client, "hi")
        try await client.shutdown()
        _ = server.request()
        #expect(error?.code == .status(429))
        #expect(error?.errorType == "insufficient_quota")
        #expect(error?.isRetryable == false)
    }
}

/// A logger that keeps every line, metadata included, at trace level.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    var logger: Logger {
        var logger = Logger(label: "test") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.lines.withLock { $0.append("\(event.level) \(event.message) \(all)") }
        }
    }
}
