import Synchronization

/// One upstream's "wait before calling again", shared by every worker that calls it.
///
/// When one worker hears `Retry-After` (or a rate-limit reset), it closes the gate until
/// then, and every other worker waits at the gate before its next call instead of walking
/// into the same 429.
public final class RateLimitGate: Sendable {
    private let reopensAt = Mutex<ContinuousClock.Instant?>(nil)

    public init() {}

    /// Closes the gate for `duration` from now (a later reopening time wins).
    public func pause(for duration: Duration) {
        let until = ContinuousClock.now + duration
        reopensAt.withLock { current in
            if let current, current >= until { return }
            current = until
        }
    }

    /// When the gate reopens, if it is closed now.
    public var closedUntil: ContinuousClock.Instant? {
        let now = ContinuousClock.now
        return reopensAt.withLock { until in
            guard let until, until > now else { return nil }
            return until
        }
    }

    /// Waits until the gate is open. Throws `CancellationError` when cancelled.
    public func waitUntilOpen() async throws {
        while let until = closedUntil {
            try await Task.sleep(until: until, clock: .continuous)
        }
    }
}
