@testable import PromptlineClient
import Testing

@Suite struct ProgressBarTests {
    @Test func barAndSentenceShowCountsRateAndTimeLeft() {
        let start = ContinuousClock.now
        var bar = ProgressBar(total: 100)
        bar.update(WaitProgress(total: 100, finished: 10), at: start)
        #expect(bar.rate == nil)
        #expect(bar.bar(width: 10) == "[█░░░░░░░░░] 10/100  10%  –/s  ETA –")
        bar.update(WaitProgress(total: 100, finished: 50, failed: 2), at: start + .seconds(2))
        #expect(bar.bar(width: 10) == "[█████░░░░░] 50/100  50%  2 failed  20.0/s  ETA 3s")
        #expect(bar.sentence == "50 of 100 tasks finished (50%), 2 failed, 20.0 tasks/s, about 3s left")
        bar.update(WaitProgress(total: 100, finished: 100, failed: 2), at: start + .seconds(4))
        #expect(bar.bar(width: 10) == "[██████████] 100/100 100%  2 failed  22.5/s")
    }

    @Test func theRateCountsFromTheFirstFiguresOfEveryTask() {
        let start = ContinuousClock.now
        var bar = ProgressBar(total: 100)
        // The first round's pages find tasks an earlier run finished: no rate from those.
        bar.update(WaitProgress(total: 100, finished: 40, everyTaskRead: false), at: start)
        bar.update(WaitProgress(total: 100, finished: 80, everyTaskRead: true), at: start + .seconds(1))
        bar.update(WaitProgress(total: 100, finished: 90), at: start + .seconds(3))
        #expect(bar.rate == 5)
        #expect(bar.secondsLeft == 2)
    }

    @Test(arguments: [(7.0, "7s"), (59.2, "1m00s"), (125.0, "2m05s"), (3_725.0, "1h02m")])
    func clock(seconds: Double, text: String) {
        #expect(ProgressBar.clock(seconds) == text)
    }
}
