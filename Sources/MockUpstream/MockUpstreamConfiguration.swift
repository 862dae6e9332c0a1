/// How a ``MockUpstreamServer`` answers: where it listens, how slow it is and which faults it injects.
///
/// Every rate is a fraction in `0...1` of the chat-completion requests it applies to. The fault rates
/// are exclusive (one draw picks at most one fault per request), so their sum should stay at or below 1.
/// A `[[mock:…]]` directive in a prompt overrides the rates for that prompt (see ``MockDirective``).
package struct MockUpstreamConfiguration: Sendable {
    /// The address to bind.
    package var host: String = "127.0.0.1"
    /// The port to bind; `0` picks a free port (read it back from ``MockUpstreamServer/port``).
    package var port: Int = 9100
    /// Time before the first byte of every answer.
    package var latency: Duration = .zero
    /// Extra random latency, uniform in `0...jitter`, added to ``latency``.
    package var jitter: Duration = .zero
    /// Time between two streamed token chunks.
    package var tokenDelay: Duration = .zero
    /// Fraction of requests answered `500` (type `server_error`).
    package var errorRate: Double = 0
    /// Fraction of requests answered `429` (type `rate_limit_exceeded`) with `retry-after-ms` and `retry-after`.
    package var rateLimitRate: Double = 0
    /// The wait sent with rate-limit `429`s, as `retry-after-ms` and `retry-after` (whole seconds, rounded up).
    package var retryAfter: Duration = .seconds(1)
    /// Fraction of requests answered `429` with error type and code `insufficient_quota` (not retryable).
    package var quotaErrorRate: Double = 0
    /// Fraction of requests answered `400` (type `invalid_request_error`).
    package var badRequestRate: Double = 0
    /// Fraction of requests that stall for ``stall`` mid-answer: after the headers and the first chunk
    /// when streaming, before any byte otherwise. The answer then completes normally.
    package var stallRate: Double = 0
    /// How long a stall lasts.
    package var stall: Duration = .seconds(60)
    /// Fraction of requests whose connection is reset (RST) without any answer.
    package var resetRate: Double = 0
    /// Fraction of requests cut short: streams get two chunks and then the connection closes before
    /// `finish_reason` and `[DONE]`; plain answers get their headers and half the body.
    package var cutRate: Double = 0
    /// A token-bucket limit on chat-completion requests per second (burst: one second's worth).
    /// Requests over it are answered `429` with the `retry-after-ms` the bucket needs to refill.
    package var maxRequestsPerSecond: Int? = nil
    /// Seeds the random draws (fault rates and jitter) so that a run can be repeated.
    package var seed: UInt64? = nil

    package init() {}
}

extension MockUpstreamConfiguration {
    /// The problems that make this configuration unusable, one readable line each; empty when valid.
    package var problems: [String] {
        var problems: [String] = []
        if !(0...65535).contains(port) {
            problems.append("port must be between 0 and 65535, not \(port)")
        }
        let rates: [(String, Double)] = [
            ("errorRate", errorRate), ("rateLimitRate", rateLimitRate), ("quotaErrorRate", quotaErrorRate),
            ("badRequestRate", badRequestRate), ("stallRate", stallRate), ("resetRate", resetRate),
            ("cutRate", cutRate),
        ]
        for (name, rate) in rates where !(0...1).contains(rate) {
            problems.append("\(name) must be between 0 and 1, not \(rate)")
        }
        if rates.reduce(0, { $0 + $1.1 }) > 1.000_001 {
            problems.append("the fault rates add up to more than 1")
        }
        let durations: [(String, Duration)] = [
            ("latency", latency), ("jitter", jitter), ("tokenDelay", tokenDelay), ("retryAfter", retryAfter),
            ("stall", stall),
        ]
        for (name, duration) in durations where duration < .zero {
            problems.append("\(name) must not be negative")
        }
        if let maxRequestsPerSecond, maxRequestsPerSecond <= 0 {
            problems.append("maxRequestsPerSecond must be positive, not \(maxRequestsPerSecond)")
        }
        return problems
    }
}
