import Testing

@testable import MockUpstream

@Suite("Directives and tokens")
struct MockDirectiveTests {
    @Test func readsEveryKey() throws {
        let directive = try #require(
            MockDirective(
                in: "say hi [[mock:status=429, type=insufficient_quota,times=2,retry_after_ms=1500,"
                    + "latency_ms=10,stall_ms=20,token_delay_ms=5,reset,cut]] please"
            )
        )
        #expect(directive.status == 429)
        #expect(directive.type == "insufficient_quota")
        #expect(directive.times == 2)
        #expect(directive.retryAfterMilliseconds == 1500)
        #expect(directive.latency == .milliseconds(10))
        #expect(directive.stall == .milliseconds(20))
        #expect(directive.tokenDelay == .milliseconds(5))
        #expect(directive.reset && directive.cut)
        #expect(directive.applies(toCall: 2))
        #expect(!directive.applies(toCall: 3))
    }

    @Test(arguments: ["plain prompt", "[[mock:status=500", "[mock:status=500]]", "", "[[mock"])
    func noDirectiveWithoutACompleteMarker(text: String) {
        #expect(MockDirective(in: text) == nil)
    }

    @Test func latencyAloneIsNoFault() throws {
        let directive = try #require(MockDirective(in: "[[mock:latency_ms=5,unknown=1,status=abc]]"))
        #expect(!directive.hasFault)
        #expect(directive.status == nil)
        #expect(directive.times == nil)
        #expect(directive.applies(toCall: 1000))
    }

    @Test func tokensGiveBackTheTextExactly() {
        let text = "echo: hello  world\tagain "
        let bytes = Array(text.utf8)
        let tokens = ChatAnswer.tokenRanges(of: bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
        #expect(tokens == ["echo:", " hello", "  world", "\tagain", " "])
        #expect(tokens.joined() == text)
        #expect(ChatAnswer.wordCount(of: " a  b\nc ") == 3)
        #expect(ChatAnswer.wordCount(of: "") == 0)
    }

    @Test func queryValuesArePercentDecoded() {
        #expect(MockUpstreamHandler.queryValue(named: "prompt", in: "x=1&prompt=a%20b+c%26%5B") == "a b c&[")
        #expect(MockUpstreamHandler.queryValue(named: "prompt", in: "prompt=") == "")
        #expect(MockUpstreamHandler.queryValue(named: "prompt", in: "other=1") == nil)
        #expect(MockUpstreamHandler.queryValue(named: "prompt", in: "prompt=%zz") == nil)
    }

    @Test func tokenBucketRefills() {
        var bucket = TokenBucket(ratePerSecond: 2, now: 0)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) == 500)
        #expect(bucket.take(now: 250_000_000) == 250)
        #expect(bucket.take(now: 500_000_000) == nil)
    }
}
