import Synchronization

/// Wakes whoever waits when something they wait for may have happened (work arrived, a
/// worker became free).
///
/// A signal that finds nobody waiting is kept, so the next wait returns at once: a wake-up
/// that arrives between "the queue was empty" and "wait" is never lost. Spurious wake-ups
/// are harmless (the waiter just looks again).
package final class WakeUpSignal: Sendable {
    private struct State {
        var signalled = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    package func signal() {
        let waiters = state.withLock { state in
            if state.waiters.isEmpty { state.signalled = true }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns on the next signal (or at once if one is pending), or after `timeout` on `clock`.
    package func wait<C: Clock>(timeout: C.Duration, clock: C = ContinuousClock()) async {
        await wait(until: clock.now.advanced(by: timeout), clock: clock)
    }

    /// Returns on the next signal (or at once if one is pending), or once `clock` reaches `deadline`.
    package func wait<C: Clock>(until deadline: C.Instant, clock: C) async {
        let pending = state.withLock { state in
            defer { state.signalled = false }
            return state.signalled
        }
        if pending { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(until: deadline, clock: clock) }
            group.addTask { await self.waitForSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.cancelled.remove(id) != nil || state.signalled {
                        state.signalled = false
                        return true
                    }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume()
        }
    }
}
