/// OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`.
///
/// Also the shape of an `error` event inside a stream.
package struct OpenAIErrorResponse: Sendable, Codable, Hashable, Error {
    package struct Detail: Sendable, Codable, Hashable {
        package var message: String
        /// `invalid_request_error`, `rate_limit_error`, `insufficient_quota`, `server_error`, …
        package var type: String?
        package var param: String?
        /// `invalid_api_key`, `rate_limit_exceeded`, `insufficient_quota`, …; some compatible
        /// servers send a number (an HTTP status) here, kept as its decimal string.
        package var code: String?

        package init(message: String, type: String? = nil, param: String? = nil, code: String? = nil) {
            self.message = message
            self.type = type
            self.param = param
            self.code = code
        }

        package init(from decoder: any Decoder) throws {
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

    package var error: Detail

    package init(error: Detail) {
        self.error = error
    }

    package init(message: String, type: String? = nil, param: String? = nil, code: String? = nil) {
        self.error = Detail(message: message, type: type, param: param, code: code)
    }
}
