import Foundation
import MockUpstream
import Testing

@Suite("Answers")
struct MockUpstreamAnswerTests {
    @Test func plainAnswerEchoesTheLastUserMessage() async throws {
        try await withMock { server in
            let response = try chat(chatBody("hello world", model: "m-1", system: "be brief"), to: server)
            #expect(response.status == 200)
            #expect(response.header("content-type") == "application/json")
            let json = try response.json()
            #expect(json["object"] as? String == "chat.completion")
            #expect((json["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            #expect(json["model"] as? String == "m-1")
            #expect(json["created"] as? Int != nil)
            #expect(try content(response) == "echo: hello world")
            let choice = (json["choices"] as? [[String: Any]])?.first
            #expect(choice?["finish_reason"] as? String == "stop")
            #expect((choice?["message"] as? [String: Any])?["role"] as? String == "assistant")
            let usage = json["usage"] as? [String: Int]
            #expect(usage == ["prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7])
        }
    }

    @Test func contentPartsAndSpecialCharactersEchoExactly() async throws {
        try await withMock { server in
            let prompt = "quote \" backslash \\ tab\tnewline\nunicode é 日本 \u{1}"
            let parts: [String: Any] = [
                "model": "m", "messages": [["role": "user", "content": [["type": "text", "text": prompt]]]],
            ]
            let body = String(decoding: try JSONSerialization.data(withJSONObject: parts), as: UTF8.self)
            let response = try chat(body, to: server)
            #expect(response.status == 200)
            #expect(try content(response) == "echo: " + prompt)
            #expect(server.calls(forPrompt: prompt) == 1)
        }
    }

    @Test func streamReassemblesToTheEchoWithUsageAndDoneLast() async throws {
        try await withMock { server in
            let response = try chat(chatBody("one two  three", stream: true, includeUsage: true), to: server)
            #expect(response.status == 200)
            #expect(response.header("content-type") == "text/event-stream")
            #expect(response.header("transfer-encoding") == "chunked")
            #expect(response.events.last == "[DONE]")
            let chunks = try chunks(response)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1)
            #expect(streamedContent(chunks) == "echo: one two  three")
            // "echo:", " one", " two", "  three": four token chunks, then finish, then usage.
            #expect(chunks.count == 6)
            let firstDelta = (chunks[0]["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
            #expect(firstDelta?["role"] as? String == "assistant")
            #expect(firstDelta?["content"] as? String == "echo:")
            #expect(finishReasons(chunks) == ["stop"])
            let usageChunk = chunks[5]
            #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
            let usage = usageChunk["usage"] as? [String: Int]
            #expect(usage == ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7])
        }
    }

    @Test func streamWithoutIncludeUsageHasNoUsageChunk() async throws {
        try await withMock { server in
            let response = try chat(chatBody("just this", stream: true), to: server)
            let chunks = try chunks(response)
            #expect(chunks.allSatisfy { $0["usage"] == nil })
            #expect(chunks.count == 4)
            #expect(response.events.last == "[DONE]")
        }
    }

    @Test func maxTokensTruncatesWithFinishReasonLength() async throws {
        try await withMock { server in
            let plain = try chat(chatBody("a b c d e", maxTokens: 3), to: server)
            #expect(try content(plain) == "echo: a b")
            let choice = (try plain.json()["choices"] as? [[String: Any]])?.first
            #expect(choice?["finish_reason"] as? String == "length")
            #expect((try plain.json()["usage"] as? [String: Int])?["completion_tokens"] == 3)

            let body = #"{"model":"m","stream":true,"max_completion_tokens":2,"messages":[{"role":"user","content":"a b c"}]}"#
            let streamed = try chunks(try chat(body, to: server))
            #expect(streamedContent(streamed) == "echo: a")
            #expect(finishReasons(streamed) == ["length"])

            let exact = try chat(chatBody("a b", maxTokens: 3), to: server)
            #expect((try exact.json()["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "stop")
        }
    }

    @Test func modelsListsTheMockModels() async throws {
        try await withMock { server in
            let response = try send("GET", "/v1/models", to: server)
            #expect(response.status == 200)
            let json = try response.json()
            #expect(json["object"] as? String == "list")
            let data = json["data"] as? [[String: Any]] ?? []
            #expect(data.compactMap { $0["id"] as? String } == ["mock-model", "gpt-3.5-turbo"])
            #expect(data.allSatisfy { $0["owned_by"] as? String == "promptline" })
            #expect(data.allSatisfy { $0["object"] as? String == "model" })
        }
    }

    @Test(arguments: [
        (#"{"model": "m", "messages": [ "#, "parse"),
        (#"{"model": "m"}"#, "messages"),
        (#"{"model": "m", "messages": []}"#, "messages"),
        (#"{"model": "m", "messages": "hello"}"#, "messages"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0}"#, "max_tokens"),
        ("", "parse"),
    ])
    func malformedBodiesAre400(body: String, mentioned: String) async throws {
        try await withMock { server in
            let response = try chat(body, to: server)
            #expect(response.status == 400)
            #expect(response.header("content-type") == "application/json")
            let json = try response.json()
            let error = json["error"] as? [String: Any]
            #expect(error?["type"] as? String == "invalid_request_error")
            #expect(error?["param"] is NSNull)
            #expect(error?["code"] is NSNull)
            #expect((error?["message"] as? String)?.contains(mentioned) == true)
            #expect(server.totalCalls == 1)
        }
    }

    @Test func unknownRoutesAre404InOpenAIShape() async throws {
        try await withMock { server in
            let response = try send("GET", "/v1/nothing", to: server)
            #expect(response.status == 404)
            #expect(try errorObject(response)["type"] as? String == "invalid_request_error")
            #expect(try send("GET", "/v1/chat/completions", to: server).status == 405)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderOnOneConnection() async throws {
        try await withMock { server in
            let connection = try RawHTTPConnection(port: server.port)
            let prompts = ["first [[mock:latency_ms=100]]", "second", "third [[mock:status=503]]"]
            try connection.send(
                prompts.map { RawHTTPConnection.request("POST", "/v1/chat/completions", body: chatBody($0)) }.joined()
                    + RawHTTPConnection.request("POST", "/v1/chat/completions", body: chatBody("fourth", stream: true))
            )
            #expect(try content(connection.readResponse()) == "echo: " + prompts[0])
            #expect(try content(connection.readResponse()) == "echo: second")
            #expect(try connection.readResponse().status == 503)
            #expect(streamedContent(try chunks(connection.readResponse())) == "echo: fourth")
            #expect(server.totalCalls == 4)
        }
    }

    @Test func http10WithoutKeepAliveIsClosedAfterTheAnswer() async throws {
        try await withMock { server in
            let connection = try RawHTTPConnection(port: server.port)
            let body = chatBody("old client")
            try connection.send(
                "POST /v1/chat/completions HTTP/1.0\r\ncontent-length: \(body.utf8.count)\r\n\r\n" + body
            )
            let response = try connection.readResponse()
            #expect(try content(response) == "echo: old client")
            #expect(try connection.readUntilClosed().isEmpty)
        }
    }

    @Test func invalidConfigurationIsRefused() async throws {
        var configuration = MockUpstreamConfiguration()
        configuration.port = 0
        configuration.errorRate = 1.5
        configuration.maxRequestsPerSecond = 0
        #expect(configuration.problems.count == 3)
        await #expect(throws: MockUpstreamError.self) {
            try await MockUpstreamServer.start(configuration)
        }
    }
}
