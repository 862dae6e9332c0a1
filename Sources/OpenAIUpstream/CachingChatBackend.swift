import Foundation
import PromptlineCore

/// A ``ChatBackend`` that answers from the ``ResponseCache`` when it can, and otherwise
/// asks the backend it wraps and keeps the answer.
///
/// A task's answer is kept as its result; `/v1/chat/completions` keeps the upstream's body.
/// Both use one key (`key(of:)`: the request as canonical JSON), so a
/// task and a chat call with the same model, messages and parameters share one entry.
package struct CachingChatBackend: ChatBackend {
    package let backend: any ChatBackend
    package let cache: ResponseCache

    package init(backend: any ChatBackend, cache: ResponseCache) {
        self.backend = backend
        self.cache = cache
    }

    package func complete(_ request: ChatRequest, progress: @escaping @Sendable (Int) -> Void) async throws -> TaskResult {
        guard request.cacheable, cache.isEnabled else {
            cache.noteBypass()
            return try await backend.complete(request, progress: progress)
        }
        var made: TaskResult?
        let (answer, _) = try await cache.answer(for: Self.key(of: request)) {
            let result = try await backend.complete(request, progress: progress)
            made = result
            return (.result(result), true)
        }
        if let made { return made }
        switch answer {
        case .result(let result):
            return result
        case .body(let bytes):
            guard let completion = try? JSONDecoder().decode(ChatCompletion.self, from: Data(bytes)),
                  let content = completion.choices.first?.message.content
            else {
                // A kept answer with no text (a tool call made through /v1/chat/completions).
                return try await backend.complete(request, progress: progress)
            }
            return TaskResult(content: content, usage: completion.usage, model: completion.model)
        }
    }

    /// The cache key of a task's request: the body it sends upstream, as canonical JSON
    /// without what does not change the answer (streaming, the cache opt-out), in its scope.
    package static func key(of request: ChatRequest) -> String {
        key(of: ChatCompletionRequest(request, stream: false).json.object ?? [:], scope: request.cacheScope)
    }

    /// The cache key of a request body given as JSON (a `/v1/chat/completions` call), within
    /// `scope` (the key that asked; `nil`: shared by every caller).
    package static func key(of body: [String: JSONValue], scope: String? = nil) -> String {
        var body = body
        for field in ["stream", "stream_options", "cache"] { body[field] = nil }
        let text = JSONValue.object(body).canonicalText
        return scope.map { "key \($0) " + text } ?? text
    }
}

extension ChatCompletion {
    /// A task's answer as a `chat.completion`.
    package init(_ result: TaskResult) {
        self.init(
            id: "chatcmpl-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
            created: Int(Date().timeIntervalSince1970),
            model: result.model,
            choices: [Choice(index: 0, message: Message(content: result.content), finishReason: "stop")],
            usage: result.usage
        )
    }
}
