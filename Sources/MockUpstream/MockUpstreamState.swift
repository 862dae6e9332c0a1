import NIOCore
import Synchronization
import Timing

/// The shared, thread-safe state of one mock: the call ledger, the random draws and the rate limit.
///
/// Every chat-completion request takes the lock once, to count itself and get its ``MockAnswerPlan``.
final class MockUpstreamState: Sendable {
    private struct State: Sendable {
        var ledger = CallLedger()
        var random: SeededGenerator
        var bucket: TokenBucket?
    }

    private let configuration: MockUpstreamConfiguration
    private let seed: UInt64
    private let state: Mutex<State>
    private let hasFaultRates: Bool
    private let completionCount = Atomic<UInt64>(0)
    private let idPrefix = "chatcmpl-" + String(UInt32.random(in: .min ... .max), radix: 16)

    init(configuration: MockUpstreamConfiguration) {
        self.configuration = configuration
        seed = configuration.seed ?? UInt64.random(in: .min ... .max)
        state = Mutex(Self.freshState(configuration: configuration, seed: seed))
        hasFaultRates =
            configuration.errorRate + configuration.rateLimitRate + configuration.quotaErrorRate
            + configuration.badRequestRate + configuration.stallRate + configuration.resetRate
            + configuration.cutRate > 0
    }

    private static func freshState(configuration: MockUpstreamConfiguration, seed: UInt64) -> State {
        State(
            random: SeededGenerator(seed: seed),
            bucket: configuration.maxRequestsPerSecond.map {
                TokenBucket(ratePerSecond: $0, now: NIODeadline.now().uptimeNanoseconds)
            }
        )
    }

    /// Counts a chat-completion call for `prompt` and decides how to answer it.
    func plan(forPrompt prompt: String, directive: MockDirective?, at time: Double) -> MockAnswerPlan {
        let now = NIODeadline.now().uptimeNanoseconds
        return state.withLock { state in
            let call = state.ledger.recordCall(prompt: prompt, at: time)
            var plan = MockAnswerPlan(latency: configuration.latency, tokenDelay: configuration.tokenDelay)
            if configuration.jitter > .zero {
                plan.latency += configuration.jitter * state.random.nextUnit()
            }
            if let directive, directive.applies(toCall: call) {
                if let latency = directive.latency { plan.latency = latency }
                if let tokenDelay = directive.tokenDelay { plan.tokenDelay = tokenDelay }
                if directive.hasFault {
                    applyDirectiveFault(directive, to: &plan)
                    Self.record(plan, in: &state.ledger)
                    return plan
                }
            }
            if let wait = state.bucket?.take(now: now) {
                plan.outcome = .error(.rateLimited(retryAfterMilliseconds: wait))
            } else if hasFaultRates {
                applyRandomFault(draw: state.random.nextUnit(), to: &plan)
            }
            Self.record(plan, in: &state.ledger)
            return plan
        }
    }

    /// A fresh `chatcmpl-…` id.
    func nextCompletionID() -> String {
        let number = completionCount.wrappingAdd(1, ordering: .relaxed).newValue
        return idPrefix + "x" + String(number, radix: 16)
    }

    /// Counts a chat-completion request whose body could not be read (answered `400`).
    func recordUnreadableCall() {
        state.withLock { state in
            state.ledger.recordUnreadableCall()
            state.ledger.recordStatus(400)
        }
    }

    /// A call for `user` starts, or stops, being answered.
    func begin(user: String) {
        state.withLock { $0.ledger.begin(user: user) }
    }

    func end(user: String) {
        state.withLock { $0.ledger.end(user: user) }
    }

    func entry(forPrompt prompt: String) -> CallLedger.Entry {
        state.withLock { $0.ledger.entry(forPrompt: prompt) }
    }

    var summary: CallLedger.Summary {
        state.withLock { $0.ledger.summary }
    }

    var totalCalls: Int {
        state.withLock { $0.ledger.totalCalls }
    }

    /// Forgets every call, refills the rate limit and restarts the random draws from the seed.
    func reset() {
        let fresh = Self.freshState(configuration: configuration, seed: seed)
        state.withLock { $0 = fresh }
    }

    private var defaultRetryAfterMilliseconds: Int {
        Int(configuration.retryAfter.milliseconds)
    }

    private func applyDirectiveFault(_ directive: MockDirective, to plan: inout MockAnswerPlan) {
        if directive.reset {
            plan.outcome = .reset
        } else if let status = directive.status, status >= 400 {
            plan.outcome = .error(
                .directed(
                    status: status, type: directive.type, retryAfterMilliseconds: directive.retryAfterMilliseconds,
                    defaultRetryAfter: defaultRetryAfterMilliseconds
                )
            )
        }
        plan.stall = directive.stall
        plan.cut = directive.cut
    }

    /// One uniform draw picks at most one fault; the rates are consecutive slices of `0..<1`.
    private func applyRandomFault(draw: Double, to plan: inout MockAnswerPlan) {
        var threshold = configuration.errorRate
        if draw < threshold {
            plan.outcome = .error(.serverError())
            return
        }
        threshold += configuration.rateLimitRate
        if draw < threshold {
            plan.outcome = .error(.rateLimited(retryAfterMilliseconds: defaultRetryAfterMilliseconds))
            return
        }
        threshold += configuration.quotaErrorRate
        if draw < threshold {
            plan.outcome = .error(.insufficientQuota())
            return
        }
        threshold += configuration.badRequestRate
        if draw < threshold {
            plan.outcome = .error(.invalidRequest("Mock fault: this request was refused as invalid."))
            return
        }
        threshold += configuration.stallRate
        if draw < threshold {
            plan.stall = configuration.stall
            return
        }
        threshold += configuration.resetRate
        if draw < threshold {
            plan.outcome = .reset
            return
        }
        threshold += configuration.cutRate
        if draw < threshold {
            plan.cut = true
        }
    }

    private static func record(_ plan: MockAnswerPlan, in ledger: inout CallLedger) {
        switch plan.outcome {
        case .answer:
            ledger.recordStatus(200)
            if plan.cut { ledger.recordCut() }
        case .reset:
            ledger.recordReset()
        case .error(let reply):
            ledger.recordStatus(reply.status)
        }
        if plan.stall != nil { ledger.recordStall() }
    }
}
