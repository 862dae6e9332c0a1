import Foundation
import NIOCore
import NIOHTTP1
import PromptlineCore
import Testing

@testable import OpenAIUpstream

@Suite struct ClassificationTests {
    static func openAIBody(_ message: String, type: String?, code: String? = nil) -> ByteBuffer {
        let body = OpenAIErrorResponse(message: message, type: type, code: code)
        return ByteBuffer(bytes: try! JSONEncoder().encode(body))
    }

    static func status(_ status: Int, body: ByteBuffer?, headers: HTTPHeaders = [:]) -> UpstreamError {
        UpstreamError.httpStatus(status, reason: "Reason", headers: headers, body: body)
    }

    @Test(arguments: [400, 401, 403, 404, 422])
    func clientErrorsAreNotRetried(_ code: Int) {
        let error = Self.status(code, body: Self.openAIBody("bad thing", type: "invalid_request_error"))
        #expect(error.code == .status(code))
        #expect(!error.isRetryable)
        #expect(error.message == "bad thing")
        #expect(error.errorType == "invalid_request_error")
        #expect(error.description == "upstream status \(code): bad thing")
    }

    @Test(arguments: [408, 409, 429, 500, 502, 503])
    func transientStatusesAreRetried(_ code: Int) {
        let error = Self.status(code, body: Self.openAIBody("try later", type: "server_error"))
        #expect(error.code == .status(code))
        #expect(error.isRetryable)
    }

    @Test func insufficientQuotaIsNotRetriedWhereverItIsNamed() {
        let asType = Self.status(429, body: Self.openAIBody("quota", type: "insufficient_quota", code: "insufficient_quota"))
        let asCode = Self.status(429, body: Self.openAIBody("quota", type: "requests", code: "insufficient_quota"))
        let codeOnly = Self.status(429, body: Self.openAIBody("quota", type: nil, code: "insufficient_quota"))
        for error in [asType, asCode, codeOnly] {
            #expect(error.errorType == "insufficient_quota")
            #expect(!error.isRetryable)
            #expect(!error.isRateLimit)
        }
        let rateLimited = Self.status(429, body: Self.openAIBody("slow down", type: "requests", code: "rate_limit_exceeded"))
        #expect(rateLimited.isRetryable)
        #expect(rateLimited.isRateLimit)
        #expect(rateLimited.errorType == "requests")
    }

    @Test func retryAfterIsReadFromTheHeaders() {
        let error = Self.status(429, body: nil, headers: ["retry-after-ms": "1500"])
        #expect(error.retryAfter == .milliseconds(1500))
        #expect(Self.status(503, body: nil, headers: ["retry-after": "7"]).retryAfter == .seconds(7))
        #expect(Self.status(500, body: nil).retryAfter == nil)
    }

    @Test func aBodyThatIsNotJSONGivesASnippet() {
        let html = "<html>\n  <body>Bad   gateway</body>\n</html>" + String(repeating: "x", count: 1000)
        let error = Self.status(502, body: ByteBuffer(string: html))
        #expect(error.message.hasPrefix("<html> <body>Bad gateway</body> </html>xxx"))
        #expect(error.message.count == 301)
        #expect(error.errorType == nil)
        #expect(Self.status(500, body: nil).message == "Reason")
        #expect(Self.status(500, body: ByteBuffer()).message == "Reason")
    }

    @Test func errorsInsideAnAnswerAreClassifiedByTypeAndCode() {
        func classify(_ type: String?, _ code: String?) -> UpstreamError {
            UpstreamError.embedded(.init(message: "m", type: type, code: code))
        }
        #expect(classify("server_error", nil).code == .status(500))
        #expect(classify("server_error", nil).isRetryable)
        #expect(classify(nil, "rate_limit_exceeded").code == .status(429))
        #expect(classify("insufficient_quota", nil).isRetryable == false)
        #expect(classify("invalid_request_error", "context_length_exceeded").code == .status(400))
        #expect(classify(nil, "502").code == .status(502))
        #expect(classify(nil, nil).code == .status(500))
    }

    @Test func numericErrorCodesDecode() throws {
        let body = #"{"error": {"message": "Provider returned error", "code": 502}}"#
        let decoded = try JSONDecoder().decode(OpenAIErrorResponse.self, from: Data(body.utf8))
        #expect(decoded.error.code == "502")
        #expect(decoded.error.type == nil)
    }

    @Test func theKeyIsRedacted() {
        let error = Self.status(401, body: Self.openAIBody("Incorrect API key provided: sk-secret-123.", type: "invalid_request_error"))
        let redacted = error.redacting("sk-secret-123")
        #expect(redacted.message == "Incorrect API key provided: [redacted].")
        #expect(!redacted.description.contains("sk-secret-123"))
    }

    @Test func transportErrorsNameTheEndpoint() {
        let endpoint = "example.com:443"
        #expect(UpstreamError.transport(IOError(errnoCode: ECONNREFUSED, reason: "connect"), endpoint: endpoint).message
            == "connection refused to example.com:443")
        #expect(UpstreamError.transport(IOError(errnoCode: ECONNRESET, reason: "read"), endpoint: endpoint).message
            == "connection reset by example.com:443")
        let closed = UpstreamError.transport(ChannelError.ioOnClosedChannel, endpoint: endpoint)
        #expect(closed.code == .connectionFailed)
        #expect(closed.message == "connection closed by example.com:443")
        #expect(UpstreamError.transport(CancellationError(), endpoint: endpoint).code == .connectionFailed)
    }

    @Test func endpoints() {
        #expect(OpenAIClient.endpoint(of: "https://api.openai.com/v1") == "api.openai.com:443")
        #expect(OpenAIClient.endpoint(of: "http://127.0.0.1:9100/v1") == "127.0.0.1:9100")
        #expect(OpenAIClient.endpoint(of: "http://localhost/v1") == "localhost:80")
        #expect(OpenAIClient.endpoint(of: "http://[::1]:8080") == "[::1]:8080")
    }

    @Test func hostHeadersNameThePortOnlyWhenItIsNotTheSchemes() {
        #expect(UpstreamOrigin("https://api.openai.com/v1")?.hostHeader == "api.openai.com")
        #expect(UpstreamOrigin("https://api.openai.com:443/v1")?.hostHeader == "api.openai.com")
        #expect(UpstreamOrigin("http://localhost/v1")?.hostHeader == "localhost")
        #expect(UpstreamOrigin("http://127.0.0.1:9100/v1")?.hostHeader == "127.0.0.1:9100")
        #expect(UpstreamOrigin("https://example.com:80/v1")?.hostHeader == "example.com:80")
        #expect(UpstreamOrigin("http://[::1]:8080")?.hostHeader == "[::1]:8080")
        #expect(UpstreamOrigin("http://[::1]")?.hostHeader == "[::1]")
    }

    @Test func configurationValidation() {
        #expect(OpenAIClient.Configuration().validate().isEmpty)
        #expect(OpenAIClient.Configuration(baseURL: "ftp://x").validate().count == 1)
        #expect(OpenAIClient.Configuration(baseURL: "http://u:p@host/v1").validate().count == 1)
        #expect(OpenAIClient.Configuration(apiKey: "a b").validate().count == 1)
        #expect(OpenAIClient.Configuration(apiKey: "sk-é").validate().count == 1)
        #expect(OpenAIClient.Configuration(baseURL: "http://a%0d%0aX-Injected:%201/v1").validate().count == 1)
        #expect(OpenAIClient.Configuration(timeout: .zero, maxConnections: 0).validate().count == 2)
    }

    /// A client built on a URL the configuration check refuses fails every call, saying
    /// what is wrong without quoting the URL (it may carry a password).
    @Test func aClientOnAnUnusableURLSaysWhyWithoutQuotingIt() async throws {
        let client = OpenAIClient(configuration: .init(baseURL: "ftp://user:hunter2@example.com/v1"))
        do {
            _ = try await client.complete(OpenAIClientIntegrationTests.request("hello")) { _ in }
            Issue.record("a call on an ftp URL answered")
        } catch let error as UpstreamError {
            #expect(error.code == .connectionFailed)
            #expect(error.message == "the upstream URL is not an http(s) URL with a host")
            #expect(!error.description.contains("hunter2"))
        }
        try await client.shutdown()
    }

    /// The connections do not check each request's headers: a key or a host that could
    /// break one is refused when the client is made, and every call says so.
    @Test func aClientWhoseKeyOrHostCannotGoIntoAHeaderRefusesCalls() async throws {
        for (configuration, message) in [
            (OpenAIClient.Configuration(apiKey: "sk-1\r\nX-Injected: 1"), "the upstream API key contains spaces, control or non-ASCII characters"),
            (OpenAIClient.Configuration(baseURL: "http://a%0d%0aX-Injected:%201/v1"), "the upstream URL is not an http(s) URL with a host"),
        ] {
            let client = OpenAIClient(configuration: configuration)
            do {
                _ = try await client.complete(OpenAIClientIntegrationTests.request("hello")) { _ in }
                Issue.record("a call went out with a broken header")
            } catch let error as UpstreamError {
                #expect(error.code == .connectionFailed)
                #expect(error.message == message)
                #expect(!error.description.contains("sk-1"))
            }
            try await client.shutdown()
        }
    }

    @Test func theConfigurationNeverShowsTheKey() {
        let configuration = OpenAIClient.Configuration(apiKey: "sk-secret-123")
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("sk-secret-123"))
        #expect(!String(describing: configuration).contains("sk-secret-123"))
        #expect(!String(reflecting: configuration).contains("sk-secret-123"))
    }
}

@Suite struct ChatStreamAccumulatorTests {
    static func chunk(_ content: String?, finish: String? = nil) -> ServerSentEvent {
        let body = ChatCompletionChunk(
            id: "c", model: "m-1", choices: [.init(delta: .init(content: content), finishReason: finish)]
        )
        return ServerSentEvent(data: String(decoding: try! JSONEncoder().encode(body), as: UTF8.self))
    }

    @Test func aWholeStream() throws {
        var answer = ChatStreamAccumulator()
        #expect(try answer.consume(Self.chunk("")) == false)
        #expect(try answer.consume(Self.chunk("Hel")))
        #expect(try answer.consume(Self.chunk("lo")))
        #expect(!answer.isComplete)
        #expect(try answer.consume(Self.chunk(nil, finish: "stop")) == false)
        let usage = #"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#
        #expect(try answer.consume(ServerSentEvent(data: usage)) == false)
        #expect(try answer.consume(ServerSentEvent(data: "[DONE]")) == false)
        #expect(answer.sawDone)
        // Nothing after [DONE] counts.
        #expect(try answer.consume(Self.chunk("more")) == false)
        #expect(answer.result == TaskResult(content: "Hello", usage: TokenUsage(promptTokens: 3, completionTokens: 2, totalTokens: 5), model: "m-1"))
        #expect(answer.tokens == 2)
    }

    @Test func aFinishReasonCompletesWithoutDone() throws {
        var answer = ChatStreamAccumulator()
        _ = try answer.consume(Self.chunk("a"))
        #expect(!answer.isComplete)
        _ = try answer.consume(Self.chunk("b", finish: "length"))
        #expect(answer.isComplete)
        #expect(!answer.sawDone)
        #expect(answer.result.content == "ab")
    }

    @Test func errorsInTheStreamThrow() {
        var answer = ChatStreamAccumulator()
        #expect(throws: UpstreamError.self) {
            _ = try answer.consume(ServerSentEvent(data: #"{"error":{"message":"overloaded","type":"server_error"}}"#))
        }
        do {
            _ = try answer.consume(ServerSentEvent(data: #"{"error":{"message":"quota","type":"insufficient_quota"}}"#))
            Issue.record("no error")
        } catch let error as UpstreamError {
            #expect(error.code == .status(429))
            #expect(!error.isRetryable)
        } catch {
            Issue.record("unexpected \(error)")
        }
        do {
            _ = try answer.consume(ServerSentEvent(event: "error", data: "upstream exploded"))
            Issue.record("no error")
        } catch let error as UpstreamError {
            #expect(error.code == .status(500))
            #expect(error.message.hasPrefix("upstream exploded"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func anUnreadableChunkIsAnInvalidResponse() {
        var answer = ChatStreamAccumulator()
        do {
            _ = try answer.consume(ServerSentEvent(data: "{not json"))
            Issue.record("no error")
        } catch let error as UpstreamError {
            #expect(error.code == .invalidResponse)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func otherEventTypesAreSkipped() throws {
        var answer = ChatStreamAccumulator()
        #expect(try answer.consume(ServerSentEvent(event: "ping", data: "{not json")) == false)
    }
}
