import PromptlineCore

/// One event of a streamed chat-completions answer (`object: "chat.completion.chunk"`).
///
/// With `stream_options.include_usage`, the last chunk before `[DONE]` has no choices and
/// carries the `usage`.
package struct ChatCompletionChunk: Sendable, Codable, Hashable {
    package struct Choice: Sendable, Codable, Hashable {
        package var index: Int?
        package var delta: Delta
        /// Set on the choice's last content chunk.
        package var finishReason: String?

        package init(index: Int? = 0, delta: Delta, finishReason: String? = nil) {
            self.index = index
            self.delta = delta
            self.finishReason = finishReason
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            index = try container.decodeIfPresent(Int.self, forKey: .index)
            delta = try container.decodeIfPresent(Delta.self, forKey: .delta) ?? Delta()
            finishReason = try container.decodeIfPresent(String.self, forKey: .finishReason)
        }

        enum CodingKeys: String, CodingKey {
            case index, delta
            case finishReason = "finish_reason"
        }
    }

    /// What one chunk adds to the message.
    package struct Delta: Sendable, Codable, Hashable {
        package var role: String?
        package var content: String?

        package init(role: String? = nil, content: String? = nil) {
            self.role = role
            self.content = content
        }
    }

    package var id: String?
    package var object: String?
    package var created: Int?
    package var model: String?
    package var choices: [Choice]
    package var usage: TokenUsage?

    package init(
        id: String? = nil, object: String? = "chat.completion.chunk", created: Int? = nil, model: String? = nil,
        choices: [Choice], usage: TokenUsage? = nil
    ) {
        self.id = id
        self.object = object
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        object = try container.decodeIfPresent(String.self, forKey: .object)
        created = try container.decodeIfPresent(Int.self, forKey: .created)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        choices = try container.decodeIfPresent([Choice].self, forKey: .choices) ?? []
        usage = try container.decodeIfPresent(TokenUsage.self, forKey: .usage)
    }

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
    }
}
