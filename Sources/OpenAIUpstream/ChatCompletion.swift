import PromptlineCore

/// A whole chat-completions answer (`object: "chat.completion"`).
///
/// Fields some OpenAI-compatible servers leave out are optional, so that their answers decode.
package struct ChatCompletion: Sendable, Codable, Hashable {
    /// One of the answers (Promptline asks for one).
    package struct Choice: Sendable, Codable, Hashable {
        package var index: Int?
        package var message: Message
        /// `stop`, `length`, `content_filter`, …
        package var finishReason: String?

        package init(index: Int? = 0, message: Message, finishReason: String? = nil) {
            self.index = index
            self.message = message
            self.finishReason = finishReason
        }

        enum CodingKeys: String, CodingKey {
            case index, message
            case finishReason = "finish_reason"
        }
    }

    /// The assistant's message; `content` is `null` when the model answered otherwise
    /// (a refusal, a tool call).
    package struct Message: Sendable, Codable, Hashable {
        package var role: String?
        package var content: String?

        package init(role: String? = "assistant", content: String?) {
            self.role = role
            self.content = content
        }
    }

    package var id: String?
    package var object: String?
    /// Seconds since 1970.
    package var created: Int?
    package var model: String?
    package var choices: [Choice]
    package var usage: TokenUsage?

    package init(
        id: String? = nil, object: String? = "chat.completion", created: Int? = nil, model: String? = nil,
        choices: [Choice], usage: TokenUsage? = nil
    ) {
        self.id = id
        self.object = object
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}
