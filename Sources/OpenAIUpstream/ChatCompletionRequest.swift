import PromptlineCore

/// The body of `POST /chat/completions`, as OpenAI's API takes it.
///
/// Only the fields Promptline uses; decoding ignores the others.
package struct ChatCompletionRequest: Sendable, Codable, Hashable {
    /// `stream_options`: what a streamed answer carries besides its tokens.
    package struct StreamOptions: Sendable, Codable, Hashable {
        /// Send a last chunk with the token usage.
        package var includeUsage: Bool?

        package init(includeUsage: Bool? = nil) {
            self.includeUsage = includeUsage
        }

        enum CodingKeys: String, CodingKey {
            case includeUsage = "include_usage"
        }
    }

    package var model: String
    package var messages: [ChatMessage]
    package var maxTokens: Int?
    package var temperature: Double?
    package var stream: Bool?
    package var streamOptions: StreamOptions?
    /// Every other parameter, sent as given; the fields above win over a namesake here.
    package var parameters: [String: JSONValue]

    package init(
        model: String, messages: [ChatMessage], maxTokens: Int? = nil, temperature: Double? = nil,
        stream: Bool? = nil, streamOptions: StreamOptions? = nil, parameters: [String: JSONValue] = [:]
    ) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.stream = stream
        self.streamOptions = streamOptions
        self.parameters = parameters
    }

    /// The body that sends a task's request, streamed (asking for the usage at the end) or not.
    package init(_ request: ChatRequest, stream: Bool) {
        self.init(
            model: request.model, messages: request.messages, maxTokens: request.maxTokens,
            temperature: request.temperature, stream: stream ? true : nil,
            streamOptions: stream ? StreamOptions(includeUsage: true) : nil,
            parameters: request.parameters
        )
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        messages = try container.decode([ChatMessage].self, forKey: .messages)
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        var parameters = try decoder.singleValueContainer().decode([String: JSONValue].self)
        for key in CodingKeys.allCases { parameters[key.rawValue] = nil }
        self.parameters = parameters
    }

    package func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }

    /// The body as JSON: the named fields, and ``parameters`` except their namesakes.
    package var json: JSONValue {
        var body = parameters
        for key in CodingKeys.allCases { body[key.rawValue] = nil }
        body["model"] = .string(model)
        body["messages"] = .array(messages.map { .object(["role": .string($0.role), "content": .string($0.content)]) })
        if let maxTokens { body["max_tokens"] = .number(Double(maxTokens)) }
        if let temperature { body["temperature"] = .number(temperature) }
        if let stream { body["stream"] = .bool(stream) }
        if let streamOptions {
            body["stream_options"] = .object(streamOptions.includeUsage.map { ["include_usage": .bool($0)] } ?? [:])
        }
        return .object(body)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, messages, temperature, stream
        case maxTokens = "max_tokens"
        case streamOptions = "stream_options"
    }
}
