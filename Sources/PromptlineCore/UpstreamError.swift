/// Why a call to the upstream failed, classified for the retry policy.
///
/// Its `description` is the human-readable cause stored as a task's `error`: it names the
/// cause and never carries a secret (no headers, no API key, no request body).
package struct UpstreamError: Error, Sendable, Hashable, CustomStringConvertible {
    package enum Code: Sendable, Hashable {
        /// The connection could not be made or broke before an answer (refused, reset, DNS…).
        case connectionFailed
        /// The call (or the gap between two streamed tokens) took longer than the timeout.
        case timedOut
        /// The upstream answered with an HTTP error status.
        case status(Int)
        /// A stream ended before its final event: the answer is partial.
        case incompleteStream
        /// The upstream answered something that is not a chat completion.
        case invalidResponse
    }

    package var code: Code
    /// What happened, for people.
    package var message: String
    /// The OpenAI error `type` (or `code`) from the body, e.g. `insufficient_quota`.
    package var errorType: String?
    /// How long the upstream asked us to wait before the next call, if it said.
    package var retryAfter: Duration?

    package init(_ code: Code, message: String, errorType: String? = nil, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.errorType = errorType
        self.retryAfter = retryAfter
    }

    /// Whether another attempt may succeed: connection failures, timeouts, cut streams,
    /// 408, 409, 429 (but not `insufficient_quota`) and 5xx.
    package var isRetryable: Bool {
        switch code {
        case .connectionFailed, .timedOut, .incompleteStream, .invalidResponse:
            return true
        case .status(let status):
            if status == 429 { return errorType != "insufficient_quota" }
            return status == 408 || status == 409 || status >= 500
        }
    }

    /// Whether this is the upstream's rate limiting (a 429 that is not about quota).
    package var isRateLimit: Bool {
        code == .status(429) && errorType != "insufficient_quota"
    }

    /// A label without dynamic values, for logs and metrics.
    package var kind: String {
        switch code {
        case .connectionFailed: "connection"
        case .timedOut: "timeout"
        case .incompleteStream: "incomplete_stream"
        case .invalidResponse: "invalid_response"
        case .status(429) where errorType == "insufficient_quota": "insufficient_quota"
        case .status(429): "rate_limited"
        case .status(let s) where s >= 500: "server_error"
        case .status: "client_error"
        }
    }

    package var description: String {
        switch code {
        case .status(429) where errorType != "insufficient_quota":
            return "rate limited (upstream status 429): \(message)"
        case .status(let status):
            return "upstream status \(status): \(message)"
        default:
            return message
        }
    }
}
