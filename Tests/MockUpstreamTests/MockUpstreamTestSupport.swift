import Foundation
import MockUpstream

/// Runs `body` against a mock started on a free port, and shuts it down afterwards.
func withMock(
    _ configure: (inout MockUpstreamConfiguration) -> Void = { _ in },
    _ body: (MockUpstreamServer) async throws -> Void
) async throws {
    var configuration = MockUpstreamConfiguration()
    configuration.port = 0
    configure(&configuration)
    let server = try await MockUpstreamServer.start(configuration)
    do {
        try await body(server)
    } catch {
        try await server.shutdown()
        throw error
    }
    try await server.shutdown()
}

/// A chat-completions body whose last user message is `prompt`.
func chatBody(
    _ prompt: String, model: String = "mock-model", stream: Bool = false, includeUsage: Bool = false,
    maxTokens: Int? = nil, system: String? = nil
) -> String {
    var messages: [[String: Any]] = []
    if let system { messages.append(["role": "system", "content": system]) }
    messages.append(["role": "user", "content": prompt])
    var object: [String: Any] = ["model": model, "messages": messages, "temperature": 0.7]
    if stream { object["stream"] = true }
    if includeUsage { object["stream_options"] = ["include_usage": true] }
    if let maxTokens { object["max_tokens"] = maxTokens }
    let data = try! JSONSerialization.data(withJSONObject: object)
    return String(decoding: data, as: UTF8.self)
}

/// Sends one request on a new connection and reads the answer.
func send(
    _ method: String, _ path: String, body: String? = nil, to server: MockUpstreamServer
) throws -> RawHTTPResponse {
    let connection = try RawHTTPConnection(port: server.port)
    try connection.send(RawHTTPConnection.request(method, path, body: body))
    return try connection.readResponse()
}

func chat(_ body: String, to server: MockUpstreamServer) throws -> RawHTTPResponse {
    try send("POST", "/v1/chat/completions", body: body, to: server)
}

/// The `error` object of an OpenAI error body.
func errorObject(_ response: RawHTTPResponse) throws -> [String: Any] {
    try response.json()["error"] as? [String: Any] ?? [:]
}

/// The `content` of the first choice of a plain answer.
func content(_ response: RawHTTPResponse) throws -> String? {
    let choices = try response.json()["choices"] as? [[String: Any]]
    let message = choices?.first?["message"] as? [String: Any]
    return message?["content"] as? String
}

/// The parsed chunks of a streamed answer, `[DONE]` left out.
func chunks(_ response: RawHTTPResponse) throws -> [[String: Any]] {
    try response.events.filter { $0 != "[DONE]" }.map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
    }
}

/// The concatenated delta contents of streamed chunks.
func streamedContent(_ chunks: [[String: Any]]) -> String {
    chunks.compactMap { chunk -> String? in
        let choices = chunk["choices"] as? [[String: Any]]
        let delta = choices?.first?["delta"] as? [String: Any]
        return delta?["content"] as? String
    }.joined()
}

func finishReasons(_ chunks: [[String: Any]]) -> [String] {
    chunks.compactMap { chunk in
        (chunk["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String
    }
}
