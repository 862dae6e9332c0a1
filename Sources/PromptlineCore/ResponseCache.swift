import Synchronization

/// The exact-match response cache: answers kept for a while under a key that names
/// everything that shapes an answer (model, messages, every parameter).
///
/// A hit is answered with no upstream call. Callers that ask for the same key while its
/// answer is being made wait for that one answer instead of making calls of their own.
/// Entries live ``Configuration/ttl`` and the cache holds at most
/// ``Configuration/maxBytes`` of answers, dropping the oldest first.
///
/// The cache lives in the process: instances sharing a Redis each keep their own.
package final class ResponseCache: Sendable {
    package struct Configuration: Sendable {
        /// How long an answer is kept; zero turns the cache off.
        package var ttl: Duration
        /// The most bytes of answers kept (keys not counted).
        package var maxBytes: Int

        package init(ttl: Duration = .seconds(3_600), maxBytes: Int = 64 << 20) {
            self.ttl = ttl
            self.maxBytes = maxBytes
        }
    }

    /// How one request was served.
    package enum Outcome: String, Sendable {
        /// From the cache, with no upstream call.
        case hit
        /// By an upstream call of its own.
        case miss
        /// By the upstream call an identical request in flight made.
        case coalesced
        /// Not looked up: the request opted out, or the cache is off.
        case bypass
    }

    /// What the cache has done since the process started.
    package struct Statistics: Sendable, Codable, Hashable {
        package var hits = 0
        package var misses = 0
        package var coalesced = 0
        package var bypassed = 0
        package var entries = 0
        package var bytes = 0

        package init() {}
    }

    /// A kept answer: a task's result, or the body of a `chat.completion` as the upstream
    /// sent it. Each is turned into the other only when a caller of the other kind asks.
    package enum Answer: Sendable, Equatable {
        case result(TaskResult)
        case body([UInt8])

        /// About how many bytes it holds, for the budget.
        var size: Int {
            switch self {
            case .result(let result): result.content.utf8.count + (result.model?.utf8.count ?? 0) + 64
            case .body(let bytes): bytes.count
            }
        }
    }

    private struct Entry {
        var value: Answer
        var expires: ContinuousClock.Instant
    }

    private typealias Waiter = CheckedContinuation<Answer?, Never>

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys in the order they were stored, for dropping the oldest; may hold keys
        /// already dropped or stored again since (checked when they come up).
        var order: [(key: String, expires: ContinuousClock.Instant)] = []
        var orderStart = 0
        /// Keys whose answer is being made, with the callers waiting for it.
        var inFlight: [String: [Waiter]] = [:]
        var statistics = Statistics()
    }

    package let configuration: Configuration
    private let state = Mutex(State())

    package init(configuration: Configuration) {
        self.configuration = configuration
    }

    package var isEnabled: Bool { configuration.ttl > .zero }

    package var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.entries = state.entries.count
            return statistics
        }
    }

    /// Notes a request served without looking at the cache.
    package func noteBypass() {
        state.withLock { $0.statistics.bypassed += 1 }
    }

    /// The answer for `key`: from the cache, from an identical call in flight, or made by
    /// `produce`, which answers the bytes and whether they may be kept (an error answer
    /// may not). Errors `produce` throws reach only its own caller; callers waiting on it
    /// then make calls of their own.
    package func answer(
        for key: String, produce: () async throws -> (value: Answer, keep: Bool)
    ) async throws -> (value: Answer, outcome: Outcome) {
        guard isEnabled else {
            noteBypass()
            return (try await produce().value, .bypass)
        }
        while true {
            enum Step { case hit(Answer), wait, make }
            let now = ContinuousClock.now
            let step: Step = state.withLock { state in
                if let entry = state.entries[key] {
                    if entry.expires > now {
                        state.statistics.hits += 1
                        return .hit(entry.value)
                    }
                    state.entries[key] = nil
                    state.statistics.bytes -= entry.value.size
                }
                if state.inFlight[key] != nil { return .wait }
                state.inFlight[key] = []
                state.statistics.misses += 1
                return .make
            }
            switch step {
            case .hit(let value):
                return (value, .hit)
            case .wait:
                let shared: Answer? = await withCheckedContinuation { continuation in
                    let waiting = state.withLock { state -> Bool in
                        guard state.inFlight[key] != nil else { return false }
                        state.inFlight[key]!.append(continuation)
                        return true
                    }
                    if !waiting { continuation.resume(returning: nil) }
                }
                if let shared {
                    state.withLock { $0.statistics.coalesced += 1 }
                    return (shared, .coalesced)
                }
                // The call in flight failed, or its answer may not be kept: look again.
                continue
            case .make:
                let made: (value: Answer, keep: Bool)
                do {
                    made = try await produce()
                } catch {
                    finish(key, sharing: nil)
                    throw error
                }
                finish(key, sharing: made.keep ? made.value : nil)
                return (made.value, .miss)
            }
        }
    }

    /// Stores a kept answer and wakes the callers waiting for it (with it, or with `nil`
    /// so that they make calls of their own).
    private func finish(_ key: String, sharing value: Answer?) {
        let expires = ContinuousClock.now + configuration.ttl
        let waiters: [Waiter] = state.withLock { state in
            if let value, value.size <= configuration.maxBytes {
                if let old = state.entries.updateValue(Entry(value: value, expires: expires), forKey: key) {
                    state.statistics.bytes -= old.value.size
                }
                state.statistics.bytes += value.size
                state.order.append((key, expires))
                evict(&state)
            }
            return state.inFlight.removeValue(forKey: key) ?? []
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// Drops the oldest entries until the cache fits in its byte budget.
    private func evict(_ state: inout State) {
        while state.statistics.bytes > configuration.maxBytes, state.orderStart < state.order.count {
            let (key, expires) = state.order[state.orderStart]
            state.orderStart += 1
            // Only the latest store of a key carries its expiry; older ones are stale marks.
            if let entry = state.entries[key], entry.expires == expires {
                state.entries[key] = nil
                state.statistics.bytes -= entry.value.size
            }
        }
        // Stale marks pile up as keys expire and are stored again; now and then the list is
        // compacted, and expired entries are dropped with their marks.
        if state.order.count > 2 * state.entries.count + 1_024 {
            let now = ContinuousClock.now
            state.order.removeFirst(state.orderStart)
            state.orderStart = 0
            state.order.removeAll { mark in
                guard let entry = state.entries[mark.key], entry.expires == mark.expires else { return true }
                if entry.expires <= now {
                    state.entries[mark.key] = nil
                    state.statistics.bytes -= entry.value.size
                    return true
                }
                return false
            }
        }
    }
}
