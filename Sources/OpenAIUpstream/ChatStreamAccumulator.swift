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

    private let decoder = JSONDecoder()

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
            payload = try decoder.decode(StreamPayload.self, from: Data(event.data.utf8))
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
private struct StreamPayload: Decodable {
    var choices: [ChatCompletionChunk.Choice]
    var model: String?
    var usage: TokenUsage?
    var error: OpenAIErrorResponse.Detail?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        choices = try container.decodeIfPresent([ChatCompletionChunk.Choice].self, forKey: .choices) ?? []
        model = try container.decodeIfPresent(String.self, forKey: .model)
        usage = try container.decodeIfPresent(TokenUsage.self, forKey: .usage)
        if let detail = try? container.decodeIfPresent(OpenAIErrorResponse.Detail.self, forKey: .error) {
            error = detail
        } else if let message = try? container.decodeIfPresent(String.self, forKey: .error) {
            error = OpenAIErrorResponse.Detail(message: message)
        }
    }

    enum CodingKeys: String, CodingKey {
        case choices, model, usage, error
    }
}
