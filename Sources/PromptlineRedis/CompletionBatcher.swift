import Synchronization

/// Sends completions to Redis many at a time: while one script call is on its way, the
/// completions that arrive wait and then go together in the next.
///
/// There is no task of its own: the first caller to find nobody sending becomes the
/// sender, sends what is waiting with its own, answers everyone, and hands the role to the
/// first caller still waiting, if any. When idle, a completion goes at once, alone.
final class CompletionBatcher<Item: Sendable>: Sendable {
    /// Sends a batch; answers one outcome per item, in order.
    typealias Send = ([Item]) async throws -> [Bool]

    private enum Outcome: Sendable {
        case done(Bool)
        case failed(any Error)
        /// You send next: your item and what waits.
        case send
    }

    private struct Waiting: Sendable {
        var item: Item
        var continuation: CheckedContinuation<Outcome, Never>
    }

    private struct State: Sendable {
        var waiting: [Waiting] = []
        var sending = false
    }

    private let state = Mutex(State())
    private let maximumBatch: Int

    init(maximumBatch: Int = 256) {
        self.maximumBatch = maximumBatch
    }

    /// Completes `item` with whatever else is waiting; answers its own outcome. `send` is
    /// used if this caller becomes the sender (every caller passes an equivalent one). Not
    /// cancellable: once asked, the completion is sent.
    func submit(_ item: Item, send: Send) async throws -> Bool {
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let sendNow = state.withLock { state in
                if state.sending {
                    state.waiting.append(Waiting(item: item, continuation: continuation))
                    return false
                }
                state.sending = true
                return true
            }
            if sendNow { continuation.resume(returning: .send) }
        }
        switch outcome {
        case .done(let changed): return changed
        case .failed(let error): throw error
        case .send: return try await sendBatch(leading: item, send: send)
        }
    }

    private func sendBatch(leading item: Item, send: Send) async throws -> Bool {
        let others = state.withLock { state in
            let taken = Array(state.waiting.prefix(maximumBatch - 1))
            state.waiting.removeFirst(taken.count)
            return taken
        }
        let result: Result<[Bool], any Error>
        do {
            let outcomes = try await send([item] + others.map(\.item))
            result = outcomes.count == others.count + 1
                ? .success(outcomes)
                : .failure(CompletionBatchError(expected: others.count + 1, got: outcomes.count))
        } catch {
            result = .failure(error)
        }
        for (index, waiting) in others.enumerated() {
            switch result {
            case .success(let outcomes): waiting.continuation.resume(returning: .done(outcomes[index + 1]))
            case .failure(let error): waiting.continuation.resume(returning: .failed(error))
            }
        }
        // Hand the sending role on to the first caller still waiting, or put it down.
        let next = state.withLock { state -> Waiting? in
            if state.waiting.isEmpty {
                state.sending = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.continuation.resume(returning: .send)
        return try result.get()[0]
    }
}

struct CompletionBatchError: Error, CustomStringConvertible {
    var expected: Int
    var got: Int
    var description: String { "the complete script answered \(got) outcomes for \(expected) tasks" }
}
