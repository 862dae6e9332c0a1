import Testing
import Timing

@Suite struct DurationUnitsTests {
    @Test func secondsKeepTheFraction() {
        #expect(Duration.seconds(2).seconds == 2)
        #expect(Duration.milliseconds(1_500).seconds == 1.5)
        #expect(Duration.nanoseconds(1).seconds == 1e-9)
        #expect(Duration.milliseconds(-250).seconds == -0.25)
        #expect(Duration.zero.seconds == 0)
    }

    @Test func millisecondsRoundUp() {
        #expect(Duration.seconds(2).milliseconds == 2_000)
        #expect(Duration.milliseconds(1).milliseconds == 1)
        #expect(Duration.nanoseconds(1).milliseconds == 1)
        #expect(Duration.microseconds(1_001).milliseconds == 2)
        #expect(Duration.zero.milliseconds == 0)
        #expect(Duration.milliseconds(-1_500).milliseconds == -1_500)
        #expect(Duration.microseconds(-1_500).milliseconds == -1)
    }
}
