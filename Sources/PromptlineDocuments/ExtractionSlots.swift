import Synchronization

/// A fixed number of slots, handed out first come, first served.
///
/// ``withSlot(_:)`` waits for a free slot, runs the work and gives the slot back whatever
/// happens. A waiter whose task is cancelled leaves the queue at once with `CancellationError`
/// and takes no slot; a slot freed while it was leaving goes to the next waiter.
package final class ExtractionSlots: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var free: Int
        var running = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    /// - Parameter count: how many holders at once; at least one.
    package init(count: Int) {
        state = Mutex(State(free: max(1, count)))
    }

    /// How many holders have a slot now.
    package var running: Int { state.withLock { $0.running } }

    /// How many are waiting for a slot now.
    package var waiting: Int { state.withLock { $0.waiters.count } }

    /// Runs `work` holding a slot, waiting first (in arrival order) while none is free.
    ///
    /// - Throws: `CancellationError` if the task is cancelled while waiting; whatever `work` throws.
    package func withSlot<Result: Sendable>(_ work: () async throws -> Result) async throws -> Result {
        try await acquire()
        defer { release() }
        return try await work()
    }

    private func acquire() async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Decision { case granted, cancelled, queued }
                let decision: Decision = state.withLock { state in
                    // Checked under the lock: a cancellation after this point finds the waiter
                    // in the queue (its handler takes the same lock).
                    if Task.isCancelled { return .cancelled }
                    if state.free > 0 && state.waiters.isEmpty {
                        state.free -= 1
                        state.running += 1
                        return .granted
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch decision {
                case .granted: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .queued: break
                }
            }
        } onCancel: {
            let removed: Waiter? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next: Waiter? = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.running -= 1
                state.free += 1
                return nil
            }
            // The slot passes straight to the first waiter: `running` is unchanged.
            return state.waiters.removeFirst()
        }
        next?.continuation.resume()
    }
}
