import Foundation
import PromptlineCore
import Synchronization
import Testing

@Suite struct UsageMeterTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 6_020))  // 20 s into a minute
        func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    }

    @Test func countsUpToTheLimitThenRefusesUntilTheWindowEnds() async throws {
        let clock = ManualClock()
        let meter = LocalUsageMeter(clock: { clock.now.withLock { $0 } })
        for expected in 1...3 {
            let decision = try await meter.consume(1, of: "k:requests", limit: 3, window: .seconds(60))
            #expect(decision.admitted && decision.used == expected)
        }
        let refused = try await meter.consume(1, of: "k:requests", limit: 3, window: .seconds(60))
        #expect(!refused.admitted)
        #expect(refused.used == 3, "a refusal counts nothing")
        #expect(refused.resetsIn == .seconds(40))
        #expect(try await meter.consume(1, of: "other:requests", limit: 3, window: .seconds(60)).admitted, "counters are apart")
        clock.advance(40)
        let next = try await meter.consume(1, of: "k:requests", limit: 3, window: .seconds(60))
        #expect(next.admitted && next.used == 1, "a new window starts from zero")
    }

    @Test func anAmountThatDoesNotFitIsRefusedWholeAndASmallerOneStillFits() async throws {
        let meter = LocalUsageMeter(clock: { Date(timeIntervalSince1970: 600) })
        #expect(try await meter.consume(400, of: "k:tokens", limit: 500, window: .seconds(60)).admitted)
        let refused = try await meter.consume(200, of: "k:tokens", limit: 500, window: .seconds(60))
        #expect(!refused.admitted && refused.used == 400)
        #expect(try await meter.consume(100, of: "k:tokens", limit: 500, window: .seconds(60)).used == 500)
    }
}
