import PromptlineTesting
import Testing

@Suite struct TestClockTests {
    @Test func aSleeperWakesOnlyOnceTheClockPassesItsDeadline() async throws {
        let clock = TestClock()
        let woke = try await withThrowingTaskGroup(of: TestClock.Instant.self) { group in
            group.addTask {
                try await clock.sleep(for: .seconds(10))
                return clock.now
            }
            try await eventually("one sleeper") { clock.deadlines.count == 1 }
            #expect(clock.deadlines == [TestClock.Instant(offset: .seconds(10))])
            clock.advance(by: .seconds(9))
            #expect(clock.deadlines.count == 1, "a sleeper woke before its deadline")
            clock.advance(by: .seconds(2))
            let woke = try #require(try await group.next())
            #expect(clock.deadlines.isEmpty)
            return woke
        }
        #expect(woke == TestClock.Instant(offset: .seconds(11)))
    }

    @Test func sleepersWakeInTheOrderOfTheirDeadlines() async throws {
        let clock = TestClock()
        let order = try await withThrowingTaskGroup(of: Int.self) { group in
            for seconds in [3, 1, 2] {
                group.addTask {
                    try await clock.sleep(until: .init(offset: .seconds(seconds)))
                    return seconds
                }
            }
            try await eventually("three sleepers") { clock.deadlines.count == 3 }
            var order: [Int] = []
            for step in 1...3 {
                clock.advance(to: .init(offset: .seconds(step)))
                order.append(try #require(try await group.next()))
            }
            return order
        }
        #expect(order == [1, 2, 3])
    }

    @Test func aDeadlineAlreadyPassedReturnsAtOnce() async throws {
        let clock = TestClock()
        clock.advance(by: .seconds(5))
        try await clock.sleep(until: .init(offset: .seconds(5)))
        try await clock.sleep(for: .zero)
        clock.advance(to: .init(offset: .seconds(1)))
        #expect(clock.now == .init(offset: .seconds(5)), "advancing to an instant passed moved the clock back")
        #expect(clock.deadlines.isEmpty)
    }

    @Test func aCancelledSleepThrowsAndLeavesNoSleeper() async throws {
        let clock = TestClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        try await eventually("one sleeper") { clock.deadlines.count == 1 }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.deadlines.isEmpty)
        #expect(clock.now == .init(offset: .zero))
    }
}
