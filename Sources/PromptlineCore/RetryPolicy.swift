/// How many times a task is tried and how long to wait between tries.
///
/// Exponential backoff with "equal jitter" (``Backoff``): the n-th retry waits a random time
/// between half of and all of `min(maxDelay, baseDelay × 2^(n-1))`. When the upstream said
/// how long to wait, that wait is used instead (never shortened).
public struct RetryPolicy: Sendable, Hashable {
    /// Deliveries of a task at most, the first included.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Whether a task that just failed its `attempt`-th delivery with `error` goes again.
    public func shouldRetry(_ error: UpstreamError, attempt: Int) -> Bool {
        error.isRetryable && attempt < maxAttempts
    }

    /// The wait before the next delivery after the `attempt`-th failed.
    /// - Parameter random: a number in 0..<1 (injected so tests are exact).
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, random: Double = Double.random(in: 0..<1)) -> Duration {
        if let retryAfter { return max(retryAfter, .zero) }
        return Backoff(base: baseDelay, maximum: maxDelay, jitter: .equal).delay(afterFailure: attempt, random: random)
    }
}
