import Foundation
import PromptlineCore

/// A ``ChatBackend`` that answers from the ``ResponseCache`` when it can, and otherwise
/// asks the backend it wraps and keeps the answer.
///
/// Answers are kept as `chat.completion` JSON, the form `/v1/chat/completions` answers, so
/// a task and a chat call with the same model, messages and parameters share one entry.
public struct CachingChatBackend: ChatBackend {
    public let backend: any ChatBackend
    public let cache: ResponseCache

    public init(backend: any ChatBackend, cache: ResponseCache) {
        self.backend = backend
        self.cache = cache
    }

    public func complete(_ request: ChatRequest, progress: @escaping @Sendable (Int) -> Void) async throws -> TaskResult {
        guard request.cacheable, cache.isEnabled else {
            cache.noteBypass()
            return try await backend.complete(request, progress: progress)
        }
        let key = try Self.key(of: ChatCompletionRequest(request, stream: false))
        let (bytes, _) = try await cache.answer(for: key) {
            let result = try await backend.complete(request, progress: progress)
            return (Array(try JSONEncoder().encode(ChatCompletion(result))), true)
        }
        guard let answer = try? JSONDecoder().decode(ChatCompletion.self, from: Data(bytes)),
              let content = answer.choices.first?.message.content
        else {
            // A cached answer with no text (a tool call made through /v1/chat/completions).
            return try await backend.complete(request, progress: progress)
        }
        return TaskResult(content: content, usage: answer.usage, model: answer.model)
    }

    /// The cache key of a request: its JSON with sorted keys, without what does not change
    /// the answer (`stream`, `stream_options`, the cache opt-out).
    public static func key(of request: ChatCompletionRequest) throws -> String {
        var request = request
        request.stream = nil
        request.streamOptions = nil
        request.parameters["cache"] = nil
        return String(decoding: try keyEncoder.encode(request), as: UTF8.self)
    }

    /// The cache key of a request body given as JSON (a `/v1/chat/completions` call).
    public static func key(of body: [String: JSONValue]) throws -> String {
        var body = body
        for field in ["stream", "stream_options", "cache"] { body[field] = nil }
        return String(decoding: try keyEncoder.encode(body), as: UTF8.self)
    }

    private static let keyEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension ChatCompletion {
    /// A task's answer as a `chat.completion`.
    public init(_ result: TaskResult) {
        self.init(
            id: "chatcmpl-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
            created: Int(Date().timeIntervalSince1970),
            model: result.model,
            choices: [Choice(index: 0, message: Message(content: result.content), finishReason: "stop")],
            usage: result.usage
        )
    }
}
