/// How the mock answers one chat-completion request, decided before the first byte is sent.
struct MockAnswerPlan: Sendable {
    enum Outcome: Sendable {
        /// The echo answer, plain or streamed.
        case answer
        /// Close the connection with a reset and no answer.
        case reset
        /// An OpenAI-shaped error.
        case error(MockErrorReply)
    }

    var outcome: Outcome = .answer
    /// Time before the first byte.
    var latency: Duration = .zero
    /// A stall mid-answer: after the first chunk of a stream, before any byte otherwise.
    var stall: Duration?
    /// Close the connection part-way through the answer.
    var cut = false
    /// Time between two streamed token chunks.
    var tokenDelay: Duration = .zero
}

/// An error answer in OpenAI's shape: `{"error": {"message", "type", "param": null, "code"}}`.
struct MockErrorReply: Sendable {
    var status: Int
    var type: String
    var code: String?
    var message: String
    /// Sent as `retry-after-ms` and `retry-after` (whole seconds, rounded up) when set.
    var retryAfterMilliseconds: Int?

    static func invalidRequest(_ message: String) -> Self {
        .init(status: 400, type: "invalid_request_error", code: nil, message: message)
    }

    static func serverError() -> Self {
        .init(
            status: 500, type: "server_error", code: "server_error",
            message: "The server had an error while processing your request (mock fault)."
        )
    }

    static func rateLimited(retryAfterMilliseconds: Int) -> Self {
        .init(
            status: 429, type: "rate_limit_exceeded", code: "rate_limit_exceeded",
            message: "Rate limit reached for requests (mock). Please try again in \(retryAfterMilliseconds)ms.",
            retryAfterMilliseconds: retryAfterMilliseconds
        )
    }

    static func insufficientQuota() -> Self {
        .init(
            status: 429, type: "insufficient_quota", code: "insufficient_quota",
            message: "You exceeded your current quota, please check your plan and billing details (mock)."
        )
    }

    /// The error a `status=N` directive asks for; `type` defaults to the usual one for the status.
    static func directed(status: Int, type: String?, retryAfterMilliseconds: Int?, defaultRetryAfter: Int) -> Self {
        let type = type ?? defaultType(forStatus: status)
        let isRateLimit = status == 429 && type == "rate_limit_exceeded"
        return .init(
            status: status, type: type, code: type == "invalid_request_error" ? nil : type,
            message: "Mock fault: status \(status) (\(type)) asked for by the prompt's directive.",
            retryAfterMilliseconds: retryAfterMilliseconds ?? (isRateLimit ? defaultRetryAfter : nil)
        )
    }

    private static func defaultType(forStatus status: Int) -> String {
        switch status {
        case 400, 404, 405, 413, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 408: "timeout"
        case 409: "conflict"
        case 429: "rate_limit_exceeded"
        case 500...: "server_error"
        default: "mock_error"
        }
    }
}
