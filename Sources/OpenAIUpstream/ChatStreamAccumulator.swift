import Foundation
import PromptlineCore

/// Builds one answer from the events of a streamed chat completion.
struct ChatStreamAccumulator {
    private(set) var content = ""
    /// Content chunks so far; one chunk is about one token.
    private(set) var tokens = 0
    private(set) var usage: TokenUsage?
    private(set) var model: String?
    private(set) var finishReason: String?
    /// `data: [DONE]` arrived: the answer is whole, whatever follows.
    private(set) var sawDone = false

    /// Whether the answer is whole once the body has ended cleanly: after `[DONE]`, or
    /// after a chunk with a `finish_reason` (some servers end there).
    var isComplete: Bool { sawDone || finishReason != nil }

    var result: TaskResult { TaskResult(content: content, usage: usage, model: model) }

    /// Takes one event; answers whether it added content.
    /// - Throws: ``UpstreamError``: the upstream's error event, or an unreadable chunk.
    mutating func consume(_ event: ServerSentEvent) throws -> Bool {
        guard !sawDone else { return false }
        switch event.event {
        case nil, "message", "error": break
        default: return false  // an event type chat completions do not use
        }
        if Self.isDone(event.data) {
            sawDone = true
            return false
        }
        let payload: StreamPayload
        do {
            payload = try StreamPayload(JSONValue.parse(event.data))
        } catch {
            if event.event == "error" {
                throw UpstreamError.embedded(.init(message: event.data))
            }
            throw UpstreamError(.invalidResponse, message: "unreadable stream chunk: \(UpstreamError.snippet(event.data, limit: 120))")
        }
        if let error = payload.error { throw UpstreamError.embedded(error) }
        if event.event == "error" { throw UpstreamError.embedded(.init(message: UpstreamError.snippet(event.data))) }
        if let model = payload.model { self.model = model }
        if let usage = payload.usage { self.usage = usage }
        guard let choice = payload.choices.first(where: { ($0.index ?? 0) == 0 }) else { return false }
        if let reason = choice.finishReason { finishReason = reason }
        guard let text = choice.delta.content, !text.isEmpty else { return false }
        content += text
        tokens += 1
        return true
    }
}

extension ChatStreamAccumulator {
    /// Whether an event's data is the `[DONE]` marker, allowing surrounding blanks. Looks at
    /// bytes only: it runs on every event of every stream.
    static func isDone(_ data: String) -> Bool {
        let bytes = data.utf8
        guard bytes.count < 32 else { return false }
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else {
            return false
        }
        return bytes[first...last].elementsEqual("[DONE]".utf8)
    }
}

/// A stream event's body: a chunk, or an error in its place.
private struct StreamPayload {
    var choices: [ChatCompletionChunk.Choice]
    var model: String?
    var usage: TokenUsage?
    var error: OpenAIErrorResponse.Detail?

    init(_ json: JSONValue) throws {
        guard case .object = json else { throw JSONParseError(message: "a chunk is not a JSON object") }
        choices = (json["choices"]?.array ?? []).map { choice in
            ChatCompletionChunk.Choice(
                index: choice["index"]?.int,
                delta: .init(role: choice["delta"]?["role"]?.string, content: choice["delta"]?["content"]?.string),
                finishReason: choice["finish_reason"]?.string
            )
        }
        model = json["model"]?.string
        if let usage = json["usage"], case .object = usage {
            let prompt = usage["prompt_tokens"]?.int ?? 0
            let completion = usage["completion_tokens"]?.int ?? 0
            self.usage = TokenUsage(
                promptTokens: prompt, completionTokens: completion, totalTokens: usage["total_tokens"]?.int ?? prompt + completion)
        }
        switch json["error"] {
        case .object?:
            let detail = json["error"]!
            error = OpenAIErrorResponse.Detail(
                message: detail["message"]?.string ?? "",
                type: detail["type"]?.string,
                param: detail["param"]?.string,
                code: detail["code"]?.string ?? detail["code"]?.int.map(String.init)
            )
        case .string(let message)?:
            error = OpenAIErrorResponse.Detail(message: message)
        default:
            error = nil
        }
    }
}
