/// The parts of an OpenAI chat-completions request body that the mock reads; everything else is ignored.
struct ChatRequest: MockRequestBody, Sendable {
    struct Message: Decodable, Sendable {
        var role: String
        /// The message's text: a string content as is, the `text` of each text part of an array content.
        var texts: [String]

        private enum CodingKeys: String, CodingKey {
            case role, content
        }

        private struct Part: Decodable {
            var type: String?
            var text: String?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            role = try container.decode(String.self, forKey: .role)
            if try !container.contains(.content) || container.decodeNil(forKey: .content) {
                texts = []
            } else if let text = try? container.decode(String.self, forKey: .content) {
                texts = [text]
            } else {
                texts = try container.decode([Part].self, forKey: .content).compactMap {
                    $0.type == nil || $0.type == "text" ? $0.text : nil
                }
            }
        }
    }

    var model: String
    var messages: [Message]
    var maxTokens: Int?
    var stream: Bool
    var includeUsage: Bool
    /// OpenAI's `user`: who the call is for. The mock counts calls in flight per user.
    var user: String?

    private enum CodingKeys: String, CodingKey {
        case model, messages, stream, user
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case streamOptions = "stream_options"
    }

    private struct StreamOptions: Decodable {
        var includeUsage: Bool?

        private enum CodingKeys: String, CodingKey {
            case includeUsage = "include_usage"
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model) ?? "mock-model"
        messages = try container.decode([Message].self, forKey: .messages)
        maxTokens =
            try container.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
            ?? container.decodeIfPresent(Int.self, forKey: .maxTokens)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        user = try container.decodeIfPresent(String.self, forKey: .user)
        includeUsage =
            try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)?.includeUsage ?? false
    }

    /// The text of the last message whose role is `user` (text parts joined by newlines), or `""`.
    var lastUserText: String {
        guard let message = messages.last(where: { $0.role == "user" }) else { return "" }
        return message.texts.count == 1 ? message.texts[0] : message.texts.joined(separator: "\n")
    }

    /// What is wrong with a request that decoded, or `nil` when it can be answered.
    var problem: String? {
        if messages.isEmpty {
            return "'messages' must contain at least one message."
        }
        if let maxTokens, maxTokens < 1 {
            return "Invalid 'max_tokens': integer below minimum value. "
                + "Expected a value >= 1, but got \(maxTokens) instead."
        }
        return nil
    }
}
