import Foundation
import PromptlineCore

/// A Batch API input file: JSONL, one request per line, each
/// `{"custom_id": "…", "method": "POST", "url": "/v1/chat/completions", "body": {…}}`.
struct BatchInput: Sendable {
    struct Line: Sendable {
        var customID: String
        var body: [String: JSONValue]
    }

    var lines: [Line]

    /// The request fields Promptline reads itself; every other field of a body is sent upstream as given.
    static let ownFields: Set<String> = ["model", "messages", "max_tokens", "max_completion_tokens", "temperature", "cache", "stream", "stream_options"]

    /// Reads and checks a whole file. Throws an ``APIError`` naming the first bad line.
    init(_ data: Data, maxRequests: Int) throws {
        var lines: [Line] = []
        var seen: Set<String> = []
        var number = 0
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            var bytes = raw
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let line = try Self.line(Data(bytes), number: number)
            guard seen.insert(line.customID).inserted else {
                throw APIError(.badRequest, "line \(number): custom_id '\(line.customID)' is used by an earlier line; each must be unique")
            }
            lines.append(line)
            guard lines.count <= maxRequests else {
                throw APIError(.badRequest, "the file holds more than \(maxRequests) requests, the most one batch takes (--batch-max-requests)")
            }
        }
        guard !lines.isEmpty else { throw APIError(.badRequest, "the file holds no requests; expected one JSON object per line") }
        self.lines = lines
    }

    private static func line(_ data: Data, number: Int) throws -> Line {
        func bad(_ why: String) -> APIError { APIError(.badRequest, "line \(number): \(why)") }
        guard let parsed = try? JSONValue.parse(data) else { throw bad("not valid JSON") }
        guard case .object(let object) = parsed else { throw bad("expected a JSON object") }
        guard let customID = object["custom_id"]?.string, !customID.isEmpty, customID.count <= 512 else {
            throw bad("custom_id: required, a string of 1 to 512 characters")
        }
        guard object["method"]?.string?.uppercased() == "POST" else { throw bad("method: must be \"POST\"") }
        guard object["url"]?.string == "/v1/chat/completions" else {
            throw bad("url: must be \"/v1/chat/completions\", the one endpoint batches run")
        }
        guard case .object(let body)? = object["body"] else { throw bad("body: required, a JSON object") }
        guard let messages = body["messages"]?.array, !messages.isEmpty else { throw bad("body.messages: required, a non-empty list") }
        for (index, message) in messages.enumerated() {
            guard message["role"]?.string != nil, message["content"]?.string != nil else {
                throw bad("body.messages[\(index)]: needs a string role and a string content")
            }
        }
        if let model = body["model"], model.string?.isEmpty ?? true { throw bad("body.model: expected a non-empty string") }
        for field in ["max_tokens", "max_completion_tokens"] {
            if let value = body[field], !(value.int.map { $0 >= 1 } ?? false) { throw bad("body.\(field): expected a positive integer") }
        }
        if let value = body["temperature"], !(value.double.map { (0...2).contains($0) } ?? false) {
            throw bad("body.temperature: expected a number between 0 and 2")
        }
        if body["stream"] == .bool(true) { throw bad("body.stream: batch requests are not streamed") }
        switch body["cache"] {
        case nil, .bool?: break
        default: throw bad("body.cache: expected true or false")
        }
        return Line(customID: customID, body: body)
    }

    /// The task that runs one line.
    static func request(_ body: [String: JSONValue], defaults: SubmitPolicy) -> ChatRequest {
        let messages = (body["messages"]?.array ?? []).map {
            ChatMessage(role: $0["role"]?.string ?? "user", content: $0["content"]?.string ?? "")
        }
        var parameters = body
        for field in ownFields { parameters[field] = nil }
        return ChatRequest(
            model: body["model"]?.string ?? defaults.defaultModel,
            messages: messages,
            maxTokens: body["max_tokens"]?.int ?? body["max_completion_tokens"]?.int ?? defaults.defaultMaxTokens,
            temperature: body["temperature"]?.double ?? defaults.defaultTemperature,
            parameters: parameters,
            cacheable: body["cache"] != .bool(false)
        )
    }
}
