/// OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`.
///
/// Also the shape of an `error` event inside a stream.
public struct OpenAIErrorResponse: Sendable, Codable, Hashable, Error {
    public struct Detail: Sendable, Codable, Hashable {
        public var message: String
        /// `invalid_request_error`, `rate_limit_error`, `insufficient_quota`, `server_error`, …
        public var type: String?
        public var param: String?
        /// `invalid_api_key`, `rate_limit_exceeded`, `insufficient_quota`, …; some compatible
        /// servers send a number (an HTTP status) here, kept as its decimal string.
        public var code: String?

        public init(message: String, type: String? = nil, param: String? = nil, code: String? = nil) {
            self.message = message
            self.type = type
            self.param = param
            self.code = code
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            message = try container.decodeIfPresent(String.self, forKey: .message) ?? ""
            type = try container.decodeIfPresent(String.self, forKey: .type)
            param = try? container.decodeIfPresent(String.self, forKey: .param)
            if let text = try? container.decodeIfPresent(String.self, forKey: .code) {
                code = text
            } else if let number = try? container.decodeIfPresent(Int.self, forKey: .code) {
                code = String(number)
            } else {
                code = nil
            }
        }

        enum CodingKeys: String, CodingKey {
            case message, type, param, code
        }
    }

    public var error: Detail

    public init(error: Detail) {
        self.error = error
    }

    public init(message: String, type: String? = nil, param: String? = nil, code: String? = nil) {
        self.error = Detail(message: message, type: type, param: param, code: code)
    }
}
