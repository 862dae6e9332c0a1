import MetricsTestKit
import PromptlineCore
import PromptlineTesting
import Testing

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(500), maxDelay: .seconds(30))

    @Test(arguments: [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (10, 30.0), (40, 30.0)])
    func backoffDoublesUpToTheCeiling(attempt: Int, ceiling: Double) {
        #expect(policy.delay(afterAttempt: attempt, random: 0).seconds == ceiling / 2)
        #expect(abs(policy.delay(afterAttempt: attempt, random: 0.999_999).seconds - ceiling) < 0.001)
    }

    @Test func jitterSpreadsDelaysBetweenHalfAndAll() {
        let delays = (0..<200).map { _ in policy.delay(afterAttempt: 3).seconds }
        #expect(delays.allSatisfy { (1.0...2.0).contains($0) })
        #expect(Set(delays).count > 100, "jitter should make delays differ")
    }

    @Test func retryAfterFromTheUpstreamWins() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(7), random: 0) == .seconds(7))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(-3), random: 0) == .zero)
    }

    @Test func retriesStopAtMaxAttempts() {
        let error = UpstreamError(.status(500), message: "boom")
        #expect(policy.shouldRetry(error, attempt: 4))
        #expect(!policy.shouldRetry(error, attempt: 5))
    }
}

@Suite struct UpstreamErrorTests {
    @Test(arguments: [408, 409, 429, 500, 502, 503, 504])
    func retryableStatuses(status: Int) {
        #expect(UpstreamError(.status(status), message: "x").isRetryable)
    }

    @Test(arguments: [400, 401, 403, 404, 413, 422])
    func permanentStatuses(status: Int) {
        #expect(!UpstreamError(.status(status), message: "x").isRetryable)
    }

    @Test func insufficientQuotaIsNotRetried() {
        let quota = UpstreamError(.status(429), message: "You exceeded your current quota", errorType: "insufficient_quota")
        #expect(!quota.isRetryable)
        #expect(!quota.isRateLimit)
        #expect(quota.kind == "insufficient_quota")
        let limited = UpstreamError(.status(429), message: "slow down", errorType: "rate_limit_exceeded")
        #expect(limited.isRetryable && limited.isRateLimit)
        #expect(limited.description == "rate limited (upstream status 429): slow down")
    }

    @Test func transportFailuresAreRetried() {
        for code: UpstreamError.Code in [.connectionFailed, .timedOut, .incompleteStream, .invalidResponse] {
            #expect(UpstreamError(code, message: "x").isRetryable)
        }
    }

    @Test func descriptionNamesTheStatusAndMessage() {
        #expect(UpstreamError(.status(400), message: "bad model").description == "upstream status 400: bad model")
        #expect(UpstreamError(.timedOut, message: "timed out after 30 s").description == "timed out after 30 s")
    }
}

@Suite struct RateLimitGateTests {
    @Test func aPauseClosesTheGateForEveryoneUntilTheClockPassesIt() async throws {
        let clock = TestClock()
        let gate = RateLimitGate(clock: clock)
        #expect(gate.closedUntil == nil)
        gate.pause(for: .seconds(30))
        #expect(gate.closedUntil == TestClock.Instant(offset: .seconds(30)))
        gate.pause(for: .seconds(1))
        #expect(gate.closedUntil == TestClock.Instant(offset: .seconds(30)), "a shorter pause must not shorten a longer one")
        try await withThrowingTaskGroup(of: TestClock.Instant.self) { group in
            for _ in 1...2 {
                group.addTask {
                    try await gate.waitUntilOpen()
                    return clock.now
                }
            }
            try await eventually("both waiting at the gate") { clock.deadlines.count == 2 }
            clock.advance(by: .seconds(29))
            #expect(clock.deadlines.count == 2, "the gate opened before the pause was over")
            clock.advance(by: .seconds(1))
            for try await openedAt in group {
                #expect(openedAt == TestClock.Instant(offset: .seconds(30)))
            }
        }
        #expect(gate.closedUntil == nil)
    }

    @Test func eachClosingCountsOnePause() async throws {
        let metrics = TestMetrics()
        let clock = TestClock()
        let gate = RateLimitGate(clock: clock, metricsFactory: metrics)
        func pauses() throws -> Int64 { try metrics.expectCounter("promptline_rate_limit_pauses_total").totalValue }
        gate.pause(for: .milliseconds(50))
        gate.pause(for: .milliseconds(100))
        gate.pause(for: .milliseconds(1))
        gate.pause(for: .zero)
        #expect(try pauses() == 1, "pauses while the gate is closed are one pause")
        clock.advance(by: .milliseconds(100))
        try await gate.waitUntilOpen()
        gate.pause(for: .milliseconds(1))
        #expect(try pauses() == 2)
    }
}
