import PromptlineCore
import PromptlineTesting
import Synchronization

/// A ``ChatBackend`` that answers as its test scripts, and notes every call with the time
/// on the test's clock.
///
/// A task is known by its prompt. The script says, for a prompt and its n-th call, whether
/// to answer at once, fail at once, or hold the call until the test ``finish(_:with:)``es
/// it; a held call that is cancelled throws `CancellationError`.
final class ScriptedBackend: ChatBackend {
    enum Reply: Sendable {
        case answer(String)
        case fail(UpstreamError)
        case hold
    }

    enum Ending: Sendable, Equatable {
        case answered(at: TestClock.Instant)
        case failed(at: TestClock.Instant)
        case cancelled(at: TestClock.Instant)
    }

    struct Call: Sendable, Equatable {
        var prompt: String
        var startedAt: TestClock.Instant
        /// `nil` while the call is held.
        var ended: Ending?
    }

    private struct Held {
        /// Where the call is in `calls`, and its number among all calls.
        var index: Int
        var number: Int
        var continuation: CheckedContinuation<TaskResult, any Error>
    }

    private struct State {
        var calls: [Call] = []
        var held: [String: Held] = [:]
        /// Held calls cancelled before they were registered, by the number of their call.
        var cancelledEarly: Set<Int> = []
        var nextCall = 0
    }

    private let clock: TestClock
    private let script: @Sendable (_ prompt: String, _ call: Int) -> Reply
    private let state = Mutex(State())

    init(clock: TestClock, script: @escaping @Sendable (_ prompt: String, _ call: Int) -> Reply) {
        self.clock = clock
        self.script = script
    }

    /// Every call so far, in the order they came.
    var calls: [Call] { state.withLock { $0.calls } }

    var prompts: [String] { calls.map(\.prompt) }

    /// The last call with `prompt`.
    func call(_ prompt: String) -> Call? {
        calls.last { $0.prompt == prompt }
    }

    /// Ends the held call of `prompt` with `reply` (an answer or a failure).
    func finish(_ prompt: String, with reply: Reply) {
        let now = clock.now
        let held = state.withLock { state -> Held? in
            guard let held = state.held.removeValue(forKey: prompt) else { return nil }
            switch reply {
            case .answer: state.calls[held.index].ended = .answered(at: now)
            case .fail: state.calls[held.index].ended = .failed(at: now)
            case .hold: break
            }
            return held
        }
        guard let held else { preconditionFailure("no call of \"\(prompt)\" is held") }
        switch reply {
        case .answer(let content): held.continuation.resume(returning: TaskResult(content: content))
        case .fail(let error): held.continuation.resume(throwing: error)
        case .hold: preconditionFailure("finish a held call with an answer or a failure")
        }
    }

    func complete(_ request: ChatRequest, progress: @escaping @Sendable (Int) -> Void) async throws -> TaskResult {
        let prompt = request.messages.last?.content ?? ""
        let now = clock.now
        let (number, attempt) = state.withLock { state in
            defer { state.nextCall += 1 }
            return (state.nextCall, state.calls.count { $0.prompt == prompt } + 1)
        }
        switch script(prompt, attempt) {
        case .answer(let content):
            note(Call(prompt: prompt, startedAt: now, ended: .answered(at: now)))
            return TaskResult(content: content)
        case .fail(let error):
            note(Call(prompt: prompt, startedAt: now, ended: .failed(at: now)))
            throw error
        case .hold:
            return try await hold(Call(prompt: prompt, startedAt: now), number: number)
        }
    }

    private func note(_ call: Call) {
        state.withLock { $0.calls.append(call) }
    }

    private func hold(_ call: Call, number: Int) async throws -> TaskResult {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<TaskResult, any Error>) in
                let now = clock.now
                let cancelled = state.withLock { state in
                    var call = call
                    if state.cancelledEarly.remove(number) != nil {
                        call.ended = .cancelled(at: now)
                        state.calls.append(call)
                        return true
                    }
                    precondition(state.held[call.prompt] == nil, "two calls of \"\(call.prompt)\" held at once")
                    state.held[call.prompt] = Held(index: state.calls.count, number: number, continuation: continuation)
                    state.calls.append(call)
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let now = clock.now
            let held = state.withLock { state -> Held? in
                guard let held = state.held[call.prompt], held.number == number else {
                    state.cancelledEarly.insert(number)
                    return nil
                }
                state.held.removeValue(forKey: call.prompt)
                state.calls[held.index].ended = .cancelled(at: now)
                return held
            }
            held?.continuation.resume(throwing: CancellationError())
        }
    }
}
