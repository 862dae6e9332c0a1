import Foundation
import NIOHTTP1
import Testing

@testable import OpenAIUpstream

@Suite struct RetryAfterTests {
    /// Sun, 06 Nov 1994 08:49:37 GMT
    static let now = Date(timeIntervalSince1970: 784_111_777)

    static func parse(_ headers: [(String, String)], status: Int = 429) -> Duration? {
        RetryAfter.parse(headers: HTTPHeaders(headers), status: status, now: now)
    }

    @Test func seconds() {
        #expect(Self.parse([("Retry-After", "2")]) == .seconds(2))
        #expect(Self.parse([("retry-after", " 120 ")], status: 503) == .seconds(120))
        #expect(Self.parse([("retry-after", "1.5")]) == .milliseconds(1500))
        #expect(Self.parse([("retry-after", "0")]) == .zero)
    }

    @Test func milliseconds() {
        #expect(Self.parse([("retry-after-ms", "1500")]) == .milliseconds(1500))
        #expect(Self.parse([("retry-after-ms", "20.5")], status: 500) == .microseconds(20500))
        // retry-after-ms is the more precise and wins.
        #expect(Self.parse([("retry-after", "3"), ("retry-after-ms", "250")]) == .milliseconds(250))
    }

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:51:07 GMT",
        "Sunday, 06-Nov-94 08:51:07 GMT",
        "Sun Nov  6 08:51:07 1994",
    ])
    func httpDates(_ date: String) {
        #expect(Self.parse([("retry-after", date)]) == .seconds(90))
    }

    @Test func aDateInThePastIsNoWait() {
        #expect(Self.parse([("retry-after", "Sun, 06 Nov 1994 08:00:00 GMT")]) == .zero)
        #expect(Self.parse([("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT")]) == .zero)
    }

    @Test func httpDateParsing() {
        #expect(RetryAfter.httpDate("Sun, 06 Nov 1994 08:49:37 GMT") == Self.now)
        #expect(RetryAfter.httpDate("Tue, 29 Feb 2028 23:59:60 GMT") == Date(timeIntervalSince1970: 1_835_481_600))
        #expect(RetryAfter.httpDate("Sun, 06 Nov 1994 08:49:37 EST") == nil)
        #expect(RetryAfter.httpDate("Sun, 06 Foo 1994 08:49:37 GMT") == nil)
        #expect(RetryAfter.httpDate("Sun, 36 Nov 1994 08:49:37 GMT") == nil)
        #expect(RetryAfter.httpDate("Sun, 06 Nov 1994 25:49:37 GMT") == nil)
        #expect(RetryAfter.httpDate("06 Nov 1994") == nil)
    }

    @Test func goDurations() {
        #expect(RetryAfter.goDuration("1s") == .seconds(1))
        #expect(RetryAfter.goDuration("6m0s") == .seconds(360))
        #expect(RetryAfter.goDuration("20ms") == .milliseconds(20))
        #expect(RetryAfter.goDuration("1h2m3.5s") == .milliseconds(3_723_500))
        #expect(RetryAfter.goDuration("0.5s") == .milliseconds(500))
        #expect(RetryAfter.goDuration("17.123ms") == .microseconds(17_123))
        #expect(RetryAfter.goDuration("250us") == .microseconds(250))
        #expect(RetryAfter.goDuration("250µs") == .microseconds(250))
        #expect(RetryAfter.goDuration("9ns") == .nanoseconds(9))
        #expect(RetryAfter.goDuration("0s") == .zero)
        #expect(RetryAfter.goDuration("0") == .zero)
    }

    @Test(arguments: ["", "s", "5", "1x", "-1s", "1..5s", "abc", "1s2", "99999999999999999999h", "2562048h"])
    func invalidGoDurations(_ text: String) {
        #expect(RetryAfter.goDuration(text) == nil)
    }

    @Test func rateLimitResetsOnA429TakeTheLarger() {
        let headers = [("x-ratelimit-reset-requests", "1s"), ("x-ratelimit-reset-tokens", "6m0s")]
        #expect(Self.parse(headers) == .seconds(360))
        #expect(Self.parse([("x-ratelimit-reset-tokens", "20ms")]) == .milliseconds(20))
        #expect(Self.parse([("x-ratelimit-reset-requests", "bad"), ("x-ratelimit-reset-tokens", "2s")]) == .seconds(2))
        // They come with every answer; only a 429 makes them a wait.
        #expect(Self.parse(headers, status: 500) == nil)
        // An explicit retry-after wins.
        #expect(Self.parse(headers + [("retry-after", "3")]) == .seconds(3))
    }

    @Test(arguments: ["soon", "-5", "", "1e3", "0x10", "5 s", "1.2.3", "NaN"])
    func garbageIsNoWait(_ value: String) {
        #expect(Self.parse([("retry-after", value)]) == nil)
        #expect(Self.parse([("retry-after-ms", value)]) == nil)
    }

    @Test func noHeadersNoWait() {
        #expect(Self.parse([]) == nil)
        #expect(Self.parse([("content-type", "application/json")], status: 503) == nil)
    }
}
