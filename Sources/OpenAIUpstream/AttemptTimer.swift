import PromptlineCore
import Synchronization

/// The clock of one call: when it started, when its last event arrived, and whether its
/// answer is already whole.
///
/// ``expire()`` runs beside the call and throws the timeout that ends it: `timeout` after
/// the start while no event has arrived (a whole non-streamed call, or the wait for the
/// first token), `timeout` after the last event once the answer streams, and never later
/// than `limit` after the start when there is one.
final class AttemptTimer: Sendable {
    private struct State {
        var lastEvent: ContinuousClock.Instant?
        var answer: TaskResult?
    }

    let start: ContinuousClock.Instant
    let timeout: Duration
    let limit: Duration?
    private let state = Mutex(State())

    init(timeout: Duration, limit: Duration?, start: ContinuousClock.Instant = .now) {
        self.start = start
        self.timeout = timeout
        self.limit = limit
    }

    /// An event of the stream arrived.
    func eventArrived() {
        let now = ContinuousClock.now
        state.withLock { $0.lastEvent = now }
    }

    /// The answer is whole; the call is only draining the rest of the body.
    func answerCompleted(_ answer: TaskResult) {
        state.withLock { $0.answer = answer }
    }

    /// Sleeps until the call has run out of time, then throws `.timedOut` naming the
    /// cause — or answers the whole answer, if one arrived and only the draining was late.
    /// Throws `CancellationError` when cancelled first.
    func expire() async throws -> TaskResult {
        while true {
            let (lastEvent, answer) = state.withLock { ($0.lastEvent, $0.answer) }
            let byGap = (lastEvent ?? start) + timeout
            let byLimit = limit.map { start + $0 }
            let deadline = byLimit.map { min($0, byGap) } ?? byGap
            if ContinuousClock.now >= deadline {
                if let answer { return answer }
                let cause = if let limit, let byLimit, byLimit < byGap {
                    "timed out after \(Self.format(limit))"
                } else if lastEvent == nil {
                    "timed out after \(Self.format(timeout))"
                } else {
                    "no token for \(Self.format(timeout))"
                }
                throw UpstreamError(.timedOut, message: cause)
            }
            try await Task.sleep(until: deadline, clock: .continuous)
        }
    }

    /// "30 s", "1.5 s", "0.25 s".
    static func format(_ duration: Duration) -> String {
        let seconds = duration.seconds
        if seconds == seconds.rounded() { return "\(Int(seconds)) s" }
        var text = String(seconds)
        if let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > 4 {
            text = String(text[..<text.index(dot, offsetBy: 4)])
        }
        return "\(text) s"
    }
}
