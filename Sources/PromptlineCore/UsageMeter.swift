import Foundation
import Synchronization

/// What a ``UsageMeter`` decided about one use.
package struct UsageDecision: Sendable, Hashable {
    /// Whether the use fitted under the limit and was counted.
    package var admitted: Bool
    /// What the counter holds in the current window, this use included when admitted.
    package var used: Int
    /// How long until the current window ends and the counter starts again from zero.
    package var resetsIn: Duration

    package init(admitted: Bool, used: Int, resetsIn: Duration) {
        self.admitted = admitted
        self.used = used
        self.resetsIn = resetsIn
    }
}

/// Counts uses per fixed time window (requests or tokens per minute of one API key), so that
/// a limit holds across every instance that shares the meter.
///
/// Windows are aligned on multiples of their length since the epoch: with a window of a
/// minute, every counter starts again at each whole minute.
package protocol UsageMeter: Sendable {
    /// Adds `amount` to `counter` in the current window, unless that takes it past `limit`;
    /// then counts nothing and says when the window ends.
    func consume(_ amount: Int, of counter: String, limit: Int, window: Duration) async throws -> UsageDecision
}

/// A ``UsageMeter`` in this process's memory: right for the embedded store, where one
/// process serves everything.
package final class LocalUsageMeter: UsageMeter {
    private struct Count {
        var window: Int64
        var used: Int
    }

    private let counts = Mutex<[String: Count]>([:])
    private let clock: @Sendable () -> Date

    package init(clock: @escaping @Sendable () -> Date = Date.init) {
        self.clock = clock
    }

    package func consume(_ amount: Int, of counter: String, limit: Int, window: Duration) async throws -> UsageDecision {
        let length = max(1, window.milliseconds)
        let now = Int64(clock().timeIntervalSince1970 * 1_000)
        let current = now / length
        let resetsIn = Duration.milliseconds((current + 1) * length - now)
        return counts.withLock { counts in
            // Counters of past windows are dropped as they are met, so the map holds at most
            // one entry per counter in use.
            var count = counts[counter].flatMap { $0.window == current ? $0 : nil } ?? Count(window: current, used: 0)
            guard count.used + amount <= limit else {
                return UsageDecision(admitted: false, used: count.used, resetsIn: resetsIn)
            }
            count.used += amount
            counts[counter] = count
            return UsageDecision(admitted: true, used: count.used, resetsIn: resetsIn)
        }
    }
}
