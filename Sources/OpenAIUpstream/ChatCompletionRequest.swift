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

    public init(
        model: String, messages: [ChatMessage], maxTokens: Int? = nil, temperature: Double? = nil,
        stream: Bool? = nil, streamOptions: StreamOptions? = nil
    ) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.stream = stream
        self.streamOptions = streamOptions
    }

    /// The body that sends a task's request, streamed (asking for the usage at the end) or not.
    public init(_ request: ChatRequest, stream: Bool) {
        self.init(
            model: request.model, messages: request.messages, maxTokens: request.maxTokens,
            temperature: request.temperature, stream: stream ? true : nil,
            streamOptions: stream ? StreamOptions(includeUsage: true) : nil
        )
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature, stream
        case maxTokens = "max_tokens"
        case streamOptions = "stream_options"
    }
}
