import PromptlineCore
import PromptlineTesting
import Testing

/// The worker pool against an in-memory store, on a clock the test moves.
///
/// Every wait in these tests is for something the pool does; none is for time to pass. The
/// clock moves only when a test moves it, and then only once the pool has gone back to
/// waiting (``PoolHarness/settled(sleepers:file:line:)``) or has done what the test awaits.
@Suite(.timeLimit(.minutes(1))) struct WorkerPoolTests {
    /// Leases of 30 s are renewed every 5 s; the dispatcher looks at the queue at least
    /// once a second.
    static func configuration(
        workers: Int, retry: RetryPolicy = RetryPolicy(), shutdownGrace: Duration = .seconds(10)
    ) -> WorkerPool<TestClock>.Configuration {
        .init(workers: workers, lease: .seconds(30), retry: retry, shutdownGrace: shutdownGrace)
    }

    // MARK: - Dispatching

    @Test func freeWorkersTakeTheHighestPriorityFirstThenTheOldest() async throws {
        let harness = PoolHarness(Self.configuration(workers: 2)) { _, _ in .hold }
        try await harness.enqueue([("a", 0), ("b", 5), ("c", 0)])
        try await harness.enqueue([("d", 5), ("e", 10), ("f", 0)])
        try await harness.run { _ in
            try await harness.waitForCalls(2)
            #expect(Set(harness.backend.prompts) == ["e", "b"])
            #expect(try await harness.store.counts() == QueueCounts(queued: 4, processing: 2), "claimed more than the free workers")
            // Each call that ends frees one worker, which takes the next task in line.
            for (ending, next) in [("e", "d"), ("b", "a"), ("d", "c"), ("a", "f")] {
                let calls = harness.backend.calls.count
                harness.backend.finish(ending, with: .answer("ok"))
                try await harness.waitForCalls(calls + 1)
                #expect(harness.backend.prompts.last == next, "after \(ending) ended")
                #expect(harness.backend.calls.count == calls + 1)
            }
            harness.backend.finish("c", with: .answer("ok"))
            harness.backend.finish("f", with: .answer("ok"))
            try await eventually("every task completed") { try await harness.store.counts() == QueueCounts(completed: 6) }
        }
        #expect(harness.backend.prompts.dropFirst(2) == ["d", "a", "c", "f"])
    }

    // MARK: - Leases

    @Test func aSlowCallKeepsItsLeaseForAsLongAsItRuns() async throws {
        let harness = PoolHarness(Self.configuration(workers: 1)) { _, _ in .hold }
        let id = try await harness.enqueue([("slow", 0)])[0]
        try await harness.run { _ in
            try await harness.waitForCalls(1)
            try await harness.settled()
            #expect(harness.store.leaseEnds(of: id) == .at(30))
            // Twice the lease, in steps of the renewal interval: each step renews it.
            for _ in 1...12 {
                harness.clock.advance(by: .seconds(5))
                let renewed = harness.clock.now.advanced(by: .seconds(30))
                try await eventually("the lease renewed at \(harness.clock.now) to run until \(renewed)") {
                    harness.store.leaseEnds(of: id) == renewed
                }
            }
            let running = try await harness.record(id)
            #expect(running.status == .processing)
            #expect(running.attempts == 1, "the task was taken back while its call ran")
            harness.backend.finish("slow", with: .answer("done at last"))
            try await eventually("the slow task completed") { try await harness.record(id).status == .completed }
        }
        let done = try await harness.record(id)
        #expect(done.result == "done at last")
        #expect(done.attempts == 1)
    }

    // MARK: - Retries

    @Test func aRetryableFailureWaitsInTheQueueForItsBackoffUntilAttemptsRunOut() async throws {
        let retry = RetryPolicy(maxAttempts: 4, baseDelay: .seconds(2), maxDelay: .seconds(5))
        let overloaded = UpstreamError(.status(503), message: "overloaded")
        let harness = PoolHarness(Self.configuration(workers: 1, retry: retry)) { _, _ in .fail(overloaded) }
        let id = try await harness.enqueue([("flaky", 0)])[0]
        var dueTimes: [TestClock.Instant] = [.at(0)]
        try await harness.run { _ in
            for attempt in 1..<retry.maxAttempts {
                try await eventually("attempt \(attempt) failed and went back to the queue") {
                    let record = try await harness.record(id)
                    return record.status == .queued && record.attempts == attempt
                }
                #expect(try await harness.record(id).error == overloaded.description)
                let failedAt = harness.clock.now
                let due = try #require(harness.store.notBefore(of: id))
                // The policy's backoff with equal jitter: between half and all of its ceiling.
                let backoff = failedAt.duration(to: due)
                #expect(backoff >= retry.delay(afterAttempt: attempt, random: 0), "backoff after attempt \(attempt)")
                #expect(backoff <= retry.delay(afterAttempt: attempt, random: 1), "backoff after attempt \(attempt)")
                dueTimes.append(due)
                harness.clock.advance(to: due)
            }
            try await eventually("the last attempt failed for good") { try await harness.record(id).status == .error }
        }
        let failed = try await harness.record(id)
        #expect(failed.error == overloaded.description)
        #expect(failed.attempts == retry.maxAttempts)
        #expect(harness.store.notBefore(of: id) == nil)
        #expect(harness.backend.calls.map(\.startedAt) == dueTimes, "each attempt is sent when its backoff ends")
    }

    @Test(arguments: [
        UpstreamError(.status(400), message: "model 'nope' does not exist"),
        UpstreamError(.status(429), message: "you exceeded your quota", errorType: "insufficient_quota"),
    ])
    func aFailureThatCannotSucceedEndsTheTaskAtOnce(_ failure: UpstreamError) async throws {
        let harness = PoolHarness(Self.configuration(workers: 1)) { _, _ in .fail(failure) }
        let id = try await harness.enqueue([("doomed", 0)])[0]
        try await harness.run { _ in
            try await eventually("the task failed") { try await harness.record(id).status.isFinished }
        }
        let failed = try await harness.record(id)
        #expect(failed.status == .error)
        #expect(failed.error == failure.description)
        #expect(failed.attempts == 1)
        #expect(harness.backend.calls.count == 1)
    }

    // MARK: - The Retry-After gate

    @Test func aRetryAfterPausesEveryWorkerUntilTheClockPassesIt() async throws {
        let limited = UpstreamError(.status(429), message: "slow down", retryAfter: .seconds(33))
        let harness = PoolHarness(Self.configuration(workers: 3)) { prompt, call in
            prompt == "first" && call == 1 ? .fail(limited) : .answer("ok")
        }
        let first = try await harness.enqueue([("first", 0)])[0]
        let reopens = TestClock.Instant.at(33)
        try await harness.run { _ in
            try await eventually("the rate-limited task went back to the queue") {
                let record = try await harness.record(first)
                return record.status == .queued && record.attempts == 1
            }
            #expect(harness.gate.closedUntil == reopens)
            #expect(harness.store.notBefore(of: first) == reopens, "a retry waits as long as the upstream asked")
            try await harness.enqueue([("second", 0), ("third", 0)])
            // Two workers are free and two tasks wait, but while the gate is closed nothing is
            // claimed, let alone called.
            for second in [1, 32] {
                harness.clock.advance(to: .at(second))
                try await harness.settled()
                #expect(try await harness.store.counts() == QueueCounts(queued: 3), "claimed while the gate was closed, at \(harness.clock.now)")
                #expect(harness.backend.prompts == ["first"], "called while the gate was closed, at \(harness.clock.now)")
            }
            harness.clock.advance(to: reopens)
            try await eventually("every task completed") { try await harness.store.counts() == QueueCounts(completed: 3) }
        }
        let calls = harness.backend.calls
        #expect(calls.map(\.prompt).sorted() == ["first", "first", "second", "third"])
        #expect(calls.first?.startedAt == .at(0))
        #expect(calls.dropFirst().allSatisfy { $0.startedAt == reopens }, "calls at \(calls.map(\.startedAt))")
        #expect(harness.gate.closedUntil == nil)
    }

    @Test func aTaskClaimedJustBeforeTheGateClosedWaitsAtTheGate() async throws {
        let harness = PoolHarness(Self.configuration(workers: 1)) { _, _ in .answer("ok") }
        // Another worker's Retry-After lands between the claim and the call.
        let gate = harness.gate
        harness.store.whenClaimed { _ in gate.pause(for: .seconds(33)) }
        let id = try await harness.enqueue([("claimed", 0)])[0]
        try await harness.run { _ in
            for second in [0, 32] {
                harness.clock.advance(to: .at(second))
                // Asleep: the dispatcher, the maintenance loop, and the worker at the gate.
                try await eventually("the worker waits at the gate, or has called") {
                    harness.clock.deadlines.count >= 3 || !harness.backend.calls.isEmpty
                }
                #expect(harness.backend.calls.isEmpty, "called while the gate was closed, at \(harness.clock.now)")
            }
            harness.clock.advance(to: .at(33))
            try await eventually("the task completed") { try await harness.record(id).status == .completed }
        }
        #expect(harness.backend.calls.map(\.startedAt) == [.at(33)])
    }

    // MARK: - Shutdown

    @Test func aGracefulShutdownLetsCallsFinishWithinTheGraceThenHandsBackTheRest() async throws {
        let harness = PoolHarness(Self.configuration(workers: 2, shutdownGrace: .seconds(10))) { _, _ in .hold }
        let ids = try await harness.enqueue([("finishes", 2), ("too slow", 1), ("never started", 0)])
        let shutdownAt = TestClock.Instant.at(0)
        try await harness.run { shutdown in
            try await harness.waitForCalls(2)
            try await harness.settled()
            // Shutdown ends the dispatcher's wait for a free worker; the drain's wait takes its place.
            let waiting = harness.clock.deadlines
            shutdown.triggerGracefulShutdown()
            try await eventually("the drain waits in the dispatcher's place") {
                let now = harness.clock.deadlines
                return now.count == waiting.count && now != waiting
            }
            harness.backend.finish("finishes", with: .answer("made it"))
            try await eventually("the call in flight completed") { try await harness.record(ids[0]).status == .completed }
            // The slow call is left alone until the grace period is over.
            for second in 1..<10 {
                harness.clock.advance(by: .seconds(1))
                try await eventually("the pool waits again, or has stopped the slow call") {
                    harness.clock.deadlines.count >= 2 || harness.backend.call("too slow")?.ended != nil
                }
                try #require(harness.backend.call("too slow")?.ended == nil, "stopped \(second) s into a grace of 10 s")
            }
            harness.clock.advance(by: .seconds(1))
            try await eventually("the pool stopped by itself") { harness.hasStopped }
        }
        let finished = try await harness.record(ids[0])
        let handedBack = try await harness.record(ids[1])
        let untouched = try await harness.record(ids[2])
        #expect(finished.result == "made it")
        #expect(handedBack.status == .queued)
        #expect(handedBack.attempts == 0, "a task handed back at shutdown must not count the attempt")
        #expect(harness.backend.call("too slow")?.ended == .cancelled(at: shutdownAt.advanced(by: .seconds(10))))
        #expect(untouched.status == .queued)
        #expect(untouched.attempts == 0, "the pool claimed a task after shutdown began")
        #expect(harness.backend.prompts.sorted() == ["finishes", "too slow"])
    }

    // MARK: - Dead letters

    /// Workers elsewhere take the task and die with it, `deliveries` times; the pool's
    /// maintenance takes each expired lease back. The third delivery is the last.
    @Test(arguments: [3, 2])
    func aTaskWhoseWorkersKeepDyingIsDeadLetteredAfterMaxAttemptsDeliveries(deliveries: Int) async throws {
        let retry = RetryPolicy(maxAttempts: 3)
        let harness = PoolHarness(Self.configuration(workers: 1, retry: retry)) { prompt, _ in
            prompt == "busy" ? .hold : .answer("ok")
        }
        let ids = try await harness.enqueue([("busy", 1), ("poison", 0)])
        let (busy, poison) = (ids[0], ids[1])
        try await harness.run { _ in
            // The pool's only worker is busy, so it leaves the poison task to the others.
            try await harness.waitForCalls(1)
            try await harness.settled()
            for delivery in 1...deliveries {
                let claimed = try await harness.store.claim(limit: 1, lease: .seconds(30))
                #expect(claimed.map(\.id) == [poison])
                #expect(claimed.first?.attempt == delivery)
                // Past the dead worker's lease, in steps of the renewal interval (the busy
                // task's lease is renewed at each).
                for _ in 1...7 {
                    harness.clock.advance(by: .seconds(5))
                    let renewed = harness.clock.now.advanced(by: .seconds(30))
                    try await eventually("the busy task's lease renewed") { harness.store.leaseEnds(of: busy) == renewed }
                }
                let expected: TaskStatus = delivery < retry.maxAttempts ? .queued : .error
                try await eventually("delivery \(delivery) taken back: \(expected)") {
                    try await harness.record(poison).status == expected
                }
            }
            harness.backend.finish("busy", with: .answer("done"))
            let finished = deliveries < retry.maxAttempts ? QueueCounts(completed: 2) : QueueCounts(completed: 1, error: 1)
            try await eventually("\(finished)") { try await harness.store.counts() == finished }
        }
        let record = try await harness.record(poison)
        if deliveries < retry.maxAttempts {
            #expect(record.status == .completed)
            #expect(record.attempts == retry.maxAttempts)
            #expect(harness.backend.prompts == ["busy", "poison"])
        } else {
            #expect(record.status == .error)
            #expect(record.error?.hasPrefix("dead-lettered after 3 deliveries") == true, "error \(record.error ?? "nil")")
            #expect(record.attempts == 3)
            #expect(harness.backend.prompts == ["busy"], "a dead letter was sent upstream")
        }
    }
}
