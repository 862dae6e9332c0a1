import CoreMetrics
import Synchronization

/// One upstream's "wait before calling again", shared by every worker that calls it.
///
/// When one worker hears `Retry-After` (or a rate-limit reset), it closes the gate until
/// then, and every other worker waits at the gate before its next call instead of walking
/// into the same 429.
///
/// Each time the gate closes while it was open, `promptline_rate_limit_pauses_total` counts
/// one pause (a pause made longer while closed is not counted again).
///
/// Pauses are measured on `C`: the server's gate is on `ContinuousClock`, a test's on a
/// clock it moves itself.
package final class RateLimitGate<C: Clock>: Sendable where C.Duration == Duration {
    private let clock: C
    private let reopensAt = Mutex<C.Instant?>(nil)
    private let pauses: Counter

    package init(clock: C, metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.clock = clock
        pauses = Counter(label: "promptline_rate_limit_pauses_total", factory: metricsFactory)
    }

    /// Closes the gate for `duration` from now (a later reopening time wins).
    package func pause(for duration: Duration) {
        guard duration > .zero else { return }
        let now = clock.now
        let until = now + duration
        let closes = reopensAt.withLock { current -> Bool in
            let wasOpen = current.map { $0 <= now } ?? true
            if let current, current >= until { return false }
            current = until
            return wasOpen
        }
        if closes { pauses.increment() }
    }

    /// When the gate reopens, if it is closed now.
    package var closedUntil: C.Instant? {
        let now = clock.now
        return reopensAt.withLock { until in
            guard let until, until > now else { return nil }
            return until
        }
    }

    /// Waits until the gate is open. Throws `CancellationError` when cancelled.
    package func waitUntilOpen() async throws {
        while let until = closedUntil {
            try await Task.sleep(until: until, clock: clock)
        }
    }
}

extension RateLimitGate where C == ContinuousClock {
    /// A gate on the continuous clock: the server's.
    package convenience init(metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.init(clock: ContinuousClock(), metricsFactory: metricsFactory)
    }
}
