import Testing
import Timing

@Suite struct BackoffTests {
    @Test func doublesFromTheBaseUpToTheMaximum() {
        let backoff = Backoff(base: .milliseconds(100), maximum: .seconds(2))
        let delays = (1...8).map { backoff.delay(afterFailure: $0) }
        #expect(delays == [100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000].map(Duration.milliseconds))
    }

    @Test func neverOverflowsHoweverManyFailures() {
        let backoff = Backoff(base: .seconds(86_400), maximum: .seconds(86_400 * 365))
        #expect(backoff.delay(afterFailure: 1_000_000) == .seconds(86_400 * 365))
        #expect(backoff.delay(afterFailure: .max) == .seconds(86_400 * 365))
        #expect(Backoff(base: .zero, maximum: .seconds(1)).delay(afterFailure: .max) == .zero)
    }

    @Test func noFailureYetWaitsTheBase() {
        let backoff = Backoff(base: .seconds(1), maximum: .seconds(60))
        #expect(backoff.delay(afterFailure: 0) == .seconds(1))
        #expect(backoff.delay(afterFailure: -3) == .seconds(1))
    }

    @Test func aBaseAboveTheMaximumIsCut() {
        #expect(Backoff(base: .seconds(10), maximum: .seconds(3)).delay(afterFailure: 1) == .seconds(3))
    }

    @Test(arguments: [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (10, 30.0)])
    func equalJitterWaitsBetweenHalfAndAllOfTheCeiling(failure: Int, ceiling: Double) {
        let backoff = Backoff(base: .milliseconds(500), maximum: .seconds(30), jitter: .equal)
        #expect(backoff.ceiling(afterFailure: failure).seconds == ceiling)
        #expect(backoff.delay(afterFailure: failure, random: 0).seconds == ceiling / 2)
        #expect(backoff.delay(afterFailure: failure, random: 0.5).seconds == ceiling * 0.75)
        #expect(abs(backoff.delay(afterFailure: failure, random: 0.999_999).seconds - ceiling) < 0.001)
    }

    @Test func equalJitterIsRandomByDefault() {
        let backoff = Backoff(base: .seconds(1), maximum: .seconds(30), jitter: .equal)
        let delays = (0..<200).map { _ in backoff.delay(afterFailure: 2).seconds }
        #expect(delays.allSatisfy { (1.0...2.0).contains($0) })
        #expect(Set(delays).count > 100, "jitter should make delays differ")
    }
}
