/// Why a request to a Promptline server failed.
///
/// Its description names the cause and never carries the API key.
package struct TaskClientError: Error, Sendable, Hashable, CustomStringConvertible {
    package enum Code: Sendable, Hashable {
        /// The server could not be reached, the connection broke, or the request timed out.
        case unreachable
        /// The server answered with an HTTP error status.
        case status(Int)
        /// The server answered something its API does not answer.
        case invalidAnswer
        /// The server URL is not one a request can be sent to.
        case invalidURL
    }

    package var code: Code
    /// What went wrong, for people; the server's `detail` for an error status.
    package var message: String
    /// How long the server asked to wait before trying again (`Retry-After`), if it said.
    package var retryAfter: Duration?

    package init(_ code: Code, message: String, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// Whether the same request may succeed later: the server unreachable, 408, 429 or 5xx.
    /// Submissions are safe to repeat because each carries an idempotency key.
    package var isRetryable: Bool {
        switch code {
        case .unreachable: true
        case .status(let status): status == 408 || status == 429 || status >= 500
        case .invalidAnswer, .invalidURL: false
        }
    }

    package var description: String {
        switch code {
        case .unreachable, .invalidURL:
            message
        case .status(let status) where status == 401 || status == 403:
            "the server answered \(status): \(message) (give an API key with --api-key or PROMPTLINE_API_KEY)"
        case .status(let status):
            "the server answered \(status): \(message)"
        case .invalidAnswer:
            "the server's answer could not be read: \(message)"
        }
    }
}
