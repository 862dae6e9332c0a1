import Foundation
import OpenAIUpstream
import PromptlineCore
import Testing

@Suite struct ChatCompletionRequestTests {
    let task = ChatRequest(
        model: "m", messages: [ChatMessage(role: "system", content: "be brief"), ChatMessage(role: "user", content: "hi \"you\"")],
        maxTokens: 64, temperature: 0.7, parameters: ["seed": .number(7), "stop": .array([.string("\n")]), "stream": .bool(false)]
    )

    @Test func aStreamedTaskAsksForUsageAndKeepsItsParameters() throws {
        let body = try JSONValue.parse(String(decoding: ChatCompletionRequest(task, stream: true).json.canonicalBytes, as: UTF8.self))
        #expect(body == .object([
            "model": .string("m"),
            "messages": .array([
                .object(["role": .string("system"), "content": .string("be brief")]),
                .object(["role": .string("user"), "content": .string("hi \"you\"")]),
            ]),
            "max_tokens": .number(64), "temperature": .number(0.7),
            "stream": .bool(true), "stream_options": .object(["include_usage": .bool(true)]),
            "seed": .number(7), "stop": .array([.string("\n")]),
        ]))
    }

    @Test func aPlainTaskSendsNoStreamFieldsEvenWhenItsParametersNameThem() {
        let body = ChatCompletionRequest(task, stream: false).json
        #expect(body["stream"] == nil && body["stream_options"] == nil)
        #expect(body["seed"] == .number(7))
    }

    @Test func codableWritesTheSameBody() throws {
        let request = ChatCompletionRequest(task, stream: true)
        let encoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(request))
        #expect(encoded == request.json)
        // Read back, it is the same body (its parameters no longer hold the `stream` namesake).
        let decoded = try JSONDecoder().decode(ChatCompletionRequest.self, from: JSONEncoder().encode(request))
        #expect(decoded.json == request.json && decoded.parameters["stream"] == nil && decoded.stream == true)
    }

    @Test func aTaskAndTheSameChatCallShareACacheKey() throws {
        let chat = try JSONValue.parse(#"""
            {"stream": true, "cache": true, "stop": ["\n"], "temperature": 0.7, "max_tokens": 64, "seed": 7, "model": "m",
             "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi \"you\""}]}
            """#)
        #expect(CachingChatBackend.key(of: task) == CachingChatBackend.key(of: try #require(chat.object)))
        var other = task
        other.temperature = 0.8
        #expect(CachingChatBackend.key(of: other) != CachingChatBackend.key(of: task))
    }
}
