import PromptlineCore

/// How the client rides out a busy or restarting server.
///
/// A request refused with 429 is sent again after the wait the server asked for
/// (`Retry-After`, at most ``longestWait``), however often that happens: the server works,
/// it only asks for patience (a per-key limit on tasks in flight, say). Other failures that
/// may pass (unreachable, 408, 5xx, a 503 with its `Retry-After`) are retried after the
/// wait asked for or an exponential backoff, up to ``retries`` times in a row.
package struct ServerRetry: Sendable {
    /// Failures other than 429 in a row that are retried; the next one is thrown.
    package var retries: Int
    /// Backoff when the server does not say how long to wait.
    package var backoff: RetryPolicy
    /// The longest `Retry-After` honoured as it is; a longer one is cut to this.
    package var longestWait: Duration

    package init(
        retries: Int = 8,
        backoff: RetryPolicy = RetryPolicy(baseDelay: .milliseconds(250), maxDelay: .seconds(15)),
        longestWait: Duration = .seconds(300)
    ) {
        self.retries = retries
        self.backoff = backoff
        self.longestWait = longestWait
    }

    /// Runs `operation` until it succeeds or fails in a way that is not retried, then throws
    /// its error. `onRetry` is told of each retry, before its wait: the error and the wait.
    package func run<T>(_ operation: () async throws -> T, onRetry: (TaskClientError, Duration) -> Void) async throws -> T {
        var attempt = 0
        var failures = 0
        while true {
            attempt += 1
            do {
                return try await operation()
            } catch let error as TaskClientError {
                guard error.isRetryable else { throw error }
                if error.code != .status(429) {
                    failures += 1
                    guard failures <= retries else { throw error }
                }
                let wait = min(backoff.delay(afterAttempt: attempt, retryAfter: error.retryAfter), longestWait)
                onRetry(error, wait)
                try await Task.sleep(for: wait)
            }
        }
    }
}
