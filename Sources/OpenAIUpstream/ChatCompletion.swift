import PromptlineCore

/// A whole chat-completions answer (`object: "chat.completion"`).
///
/// Fields some OpenAI-compatible servers leave out are optional, so that their answers decode.
public struct ChatCompletion: Sendable, Codable, Hashable {
    /// One of the answers (Promptline asks for one).
    public struct Choice: Sendable, Codable, Hashable {
        public var index: Int?
        public var message: Message
        /// `stop`, `length`, `content_filter`, …
        public var finishReason: String?

        public init(index: Int? = 0, message: Message, finishReason: String? = nil) {
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
    public struct Message: Sendable, Codable, Hashable {
        public var role: String?
        public var content: String?

        public init(role: String? = "assistant", content: String?) {
            self.role = role
            self.content = content
        }
    }

    public var id: String?
    public var object: String?
    /// Seconds since 1970.
    public var created: Int?
    public var model: String?
    public var choices: [Choice]
    public var usage: TokenUsage?

    public init(
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
