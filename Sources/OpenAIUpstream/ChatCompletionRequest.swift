import PromptlineCore

/// The body of `POST /chat/completions`, as OpenAI's API takes it.
///
/// Only the fields Promptline uses; decoding ignores the others.
public struct ChatCompletionRequest: Sendable, Codable, Hashable {
    /// `stream_options`: what a streamed answer carries besides its tokens.
    public struct StreamOptions: Sendable, Codable, Hashable {
        /// Send a last chunk with the token usage.
        public var includeUsage: Bool?

        public init(includeUsage: Bool? = nil) {
            self.includeUsage = includeUsage
        }

        enum CodingKeys: String, CodingKey {
            case includeUsage = "include_usage"
        }
    }

    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Double?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    /// Every other parameter, sent as given; the fields above win over a namesake here.
    public var parameters: [String: JSONValue]

    public init(
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
    public init(_ request: ChatRequest, stream: Bool) {
        self.init(
            model: request.model, messages: request.messages, maxTokens: request.maxTokens,
            temperature: request.temperature, stream: stream ? true : nil,
            streamOptions: stream ? StreamOptions(includeUsage: true) : nil,
            parameters: request.parameters
        )
    }

    public init(from decoder: any Decoder) throws {
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

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }

    /// The body as JSON: the named fields, and ``parameters`` except their namesakes.
    public var json: JSONValue {
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
