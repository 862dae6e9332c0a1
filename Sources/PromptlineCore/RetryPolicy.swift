/// How many times a task is tried and how long to wait between tries.
///
/// Exponential backoff with "equal jitter" (``Backoff``): the n-th retry waits a random time
/// between half of and all of `min(maxDelay, baseDelay × 2^(n-1))`. When the upstream said
/// how long to wait, that wait is used instead (never shortened).
package struct RetryPolicy: Sendable, Hashable {
    /// Deliveries of a task at most, the first included.
    package var maxAttempts: Int
    package var baseDelay: Duration
    package var maxDelay: Duration

    package init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Whether a task that just failed its `attempt`-th delivery with `error` goes again.
    package func shouldRetry(_ error: UpstreamError, attempt: Int) -> Bool {
        error.isRetryable && attempt < maxAttempts
    }

    /// The wait before the next delivery after the `attempt`-th failed.
    /// - Parameter random: a number in 0..<1 (injected so tests are exact).
    package func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, random: Double = Double.random(in: 0..<1)) -> Duration {
        if let retryAfter { return max(retryAfter, .zero) }
        return Backoff(base: baseDelay, maximum: maxDelay, jitter: .equal).delay(afterFailure: attempt, random: random)
    }
}
