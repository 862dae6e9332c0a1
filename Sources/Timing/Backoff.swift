/// Exponential backoff: the wait after the n-th failure in a row is `base` doubled n - 1
/// times, `maximum` at most, and with ``Jitter/equal`` a random part of that.
///
/// The one way Promptline spaces out tries: the worker pool's retries of a task and the
/// client's retries of the server (both through `RetryPolicy`, with ``Jitter/equal``),
/// webhook POSTs, and the Redis client's reconnects.
package struct Backoff: Sendable, Hashable {
    /// How a wait is spread, so that many that failed together do not all try again together.
    package enum Jitter: Sendable, Hashable {
        /// The wait is the ceiling itself.
        case none
        /// "Equal jitter": a random wait between half of and all of the ceiling.
        case equal
    }

    /// The wait after the first failure (before jitter).
    package var base: Duration
    /// The longest wait (before jitter).
    package var maximum: Duration
    package var jitter: Jitter

    package init(base: Duration, maximum: Duration, jitter: Jitter = .none) {
        self.base = base
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The wait after the `failure`-th failure in a row (counted from 1) before jitter:
    /// `min(maximum, base × 2^(failure - 1))`, exact and without overflow however many
    /// failures there were.
    package func ceiling(afterFailure failure: Int) -> Duration {
        var ceiling = base
        var doublings = max(failure, 1) - 1
        while doublings > 0, ceiling > .zero, ceiling < maximum {
            ceiling = ceiling * 2
            doublings -= 1
        }
        return min(ceiling, maximum)
    }

    /// The wait after the `failure`-th failure in a row (counted from 1).
    /// - Parameter random: a number in 0..<1 for the jitter (injected so tests are exact).
    package func delay(afterFailure failure: Int, random: Double = Double.random(in: 0..<1)) -> Duration {
        let ceiling = ceiling(afterFailure: failure)
        switch jitter {
        case .none: return ceiling
        case .equal: return ceiling / 2 + (ceiling / 2) * random
        }
    }
}
