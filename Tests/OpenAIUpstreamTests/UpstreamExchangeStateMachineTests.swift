import NIOCore
import NIOHTTP1
import PromptlineCore
import Testing

@testable import OpenAIUpstream

/// The exchange handler's state machine alone: no socket, no event loop, time given by the test.
@Suite struct UpstreamExchangeStateMachineTests {
    /// Stands for one exchange; the machine only compares it by identity.
    final class Call {
        let name: String
        init(_ name: String) { self.name = name }
    }

    typealias Machine = UpstreamExchangeHandler.StateMachine<Call>

    /// An action as a value to compare: calls by name, errors and bodies as text.
    enum Seen: Equatable {
        case none
        case forwardHead(String, status: UInt)
        case forwardBody(String, String)
        case finish(String, reuse: Bool, answer: String)
        case failAndClose(String, error: String)
        case close
        case checkAgain(String, at: NIODeadline)
        case markAbandoned(String)
    }

    enum SeenStart: Equatable {
        case write(checkAt: NIODeadline)
        case cancel
        case refuse(error: String)
    }

    static let endpoint = "upstream.test:8443"
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as UpstreamError where error.code == .timedOut: "timed out: \(error.message)"
        case let error as NIOTooManyBytesError: "too many bytes: \(error.maxBytes.map(String.init) ?? "?")"
        case is CancellationError: "cancelled"
        case ChannelError.eof: "eof"
        case ChannelError.ioOnClosedChannel: "closed channel"
        case let error as Broken: "broken \(error.id)"
        default: "other: \(error)"
        }
    }

    struct Broken: Error {
        var id: Int
    }

    static func seen(_ action: Machine.Action) -> Seen {
        switch action {
        case .none: .none
        case .forwardHead(let call, let head): .forwardHead(call.name, status: head.status.code)
        case .forwardBody(let call, let piece): .forwardBody(call.name, String(buffer: piece))
        case .finish(let call, let reuse, let answer):
            switch answer {
            case .streamEnded: .finish(call.name, reuse: reuse, answer: "stream ended")
            case .whole(let head, let body): .finish(call.name, reuse: reuse, answer: "\(head.status.code) \(String(buffer: body))")
            case .failed(let error): .finish(call.name, reuse: reuse, answer: "failed: \(describe(error))")
            }
        case .failAndClose(let call, let error): .failAndClose(call.name, error: describe(error))
        case .close: .close
        case .checkAgain(let call, let deadline): .checkAgain(call.name, at: deadline)
        case .markAbandoned(let call): .markAbandoned(call.name)
        }
    }

    static func seen(_ action: Machine.StartAction) -> SeenStart {
        switch action {
        case .write(let checkAt): .write(checkAt: checkAt)
        case .cancel: .cancel
        case .refuse(let error): .refuse(error: describe(error))
        }
    }

    /// Starts `call` at `now` (`t0` unless told) and answers what the machine said.
    func start(
        _ machine: inout Machine, _ call: Call, wholeUpTo limit: Int? = nil, deadline: TimeAmount = .seconds(10),
        stall: TimeAmount = .seconds(30), at now: NIODeadline? = nil, abandoned: Bool = false, isActive: Bool = true
    ) -> SeenStart {
        let now = now ?? t0
        return Self.seen(machine.start(
            call, abandoned: abandoned, isActive: isActive, deadline: now + deadline, stallTimeout: stall, wholeUpTo: limit, now: now
        ))
    }

    func read(_ machine: inout Machine, _ part: HTTPClientResponsePart, at now: NIODeadline? = nil) -> Seen {
        Self.seen(machine.channelRead(part, now: now ?? t0))
    }

    static func head(_ status: HTTPResponseStatus = .ok, version: HTTPVersion = .http1_1, connection: String? = nil) -> HTTPClientResponsePart {
        var headers: HTTPHeaders = ["content-type": "application/json"]
        if let connection { headers.add(name: "connection", value: connection) }
        return .head(HTTPResponseHead(version: version, status: status, headers: headers))
    }

    static func body(_ text: String) -> HTTPClientResponsePart {
        .body(ByteBuffer(string: text))
    }

    // MARK: - Answers read to the end

    @Test func aWholeAnswerIsHandedOnAtItsEndAndTheConnectionServesTheNextCall() {
        var machine = Machine(endpoint: Self.endpoint)
        let a = Call("a")
        #expect(start(&machine, a, wholeUpTo: 1024, deadline: .seconds(10), stall: .seconds(30)) == .write(checkAt: t0 + .seconds(10)))
        #expect(read(&machine, Self.head()) == .none)
        #expect(read(&machine, Self.body(#"{"id":"#)) == .none)
        #expect(read(&machine, Self.body(#""x"}"#)) == .none)
        #expect(read(&machine, .end(nil)) == .finish("a", reuse: true, answer: #"200 {"id":"x"}"#))

        let b = Call("b")
        #expect(start(&machine, b, wholeUpTo: 1024) == .write(checkAt: t0 + .seconds(10)))
        #expect(read(&machine, Self.head(.tooManyRequests)) == .none)
        #expect(read(&machine, .end(nil)) == .finish("b", reuse: true, answer: "429 "))
    }

    @Test func aStreamedAnswerIsHandedOnAsItArrives() {
        var machine = Machine(endpoint: Self.endpoint)
        let a = Call("a")
        #expect(start(&machine, a) == .write(checkAt: t0 + .seconds(10)))
        #expect(read(&machine, Self.head()) == .forwardHead("a", status: 200))
        #expect(read(&machine, Self.body("data: 1\n\n")) == .forwardBody("a", "data: 1\n\n"))
        #expect(read(&machine, Self.body("data: [DONE]\n\n")) == .forwardBody("a", "data: [DONE]\n\n"))
        #expect(read(&machine, .end(nil)) == .finish("a", reuse: true, answer: "stream ended"))
        #expect(start(&machine, Call("b")) == .write(checkAt: t0 + .seconds(10)))
    }

    @Test func aWholeBodyMayReachItsLimitButNotPassIt() {
        var machine = Machine(endpoint: Self.endpoint)
        #expect(start(&machine, Call("a"), wholeUpTo: 8) == .write(checkAt: t0 + .seconds(10)))
        #expect(read(&machine, Self.head()) == .none)
        #expect(read(&machine, Self.body("12345")) == .none)
        #expect(read(&machine, Self.body("678")) == .none)
        #expect(read(&machine, .end(nil)) == .finish("a", reuse: true, answer: "200 12345678"))

        #expect(start(&machine, Call("b"), wholeUpTo: 8) == .write(checkAt: t0 + .seconds(10)))
        #expect(read(&machine, Self.head()) == .none)
        #expect(read(&machine, Self.body("12345")) == .none)
        #expect(read(&machine, Self.body("6789")) == .failAndClose("b", error: "too many bytes: 8"))
        // The rest of that answer is left unread and nothing more reaches the caller.
        #expect(read(&machine, Self.body("0")) == .none)
        #expect(read(&machine, .end(nil)) == .none)
        #expect(start(&machine, Call("c"), isActive: false) == .refuse(error: "closed channel"))
    }

    /// NIO's decoder hands over only the final head; should two come, the last is the answer's.
    @Test func aSecondHeadReplacesTheFirstAndIsNotForwardedAgain() {
        var machine = Machine(endpoint: Self.endpoint)
        _ = start(&machine, Call("whole"), wholeUpTo: 64)
        #expect(read(&machine, Self.head(.continue)) == .none)
        #expect(read(&machine, Self.head(.created)) == .none)
        #expect(read(&machine, .end(nil)) == .finish("whole", reuse: true, answer: "201 "))

        _ = start(&machine, Call("stream"))
        #expect(read(&machine, Self.head(.ok)) == .forwardHead("stream", status: 200))
        #expect(read(&machine, Self.head(.ok, connection: "close")) == .none)
        #expect(read(&machine, .end(nil)) == .finish("stream", reuse: false, answer: "stream ended"))
    }

    @Test func anEndWithoutAHeadFailsTheCallButLeavesTheConnectionUsable() {
        var machine = Machine(endpoint: Self.endpoint)
        _ = start(&machine, Call("a"), wholeUpTo: 64)
        #expect(read(&machine, .end(nil)) == .finish("a", reuse: true, answer: "failed: eof"))
        #expect(start(&machine, Call("b")) == .write(checkAt: t0 + .seconds(10)))
    }

    // MARK: - Reuse

    @Test(arguments: [
        (HTTPVersion.http1_1, nil, true),
        (.http1_1, "keep-alive", true),
        (.http1_1, "close", false),
        (.http1_1, "Close", false),
        (.http1_0, nil, false),
        (.http1_0, "keep-alive", true),
        (.http1_0, "Keep-Alive", true),
        (.http1_0, "close", false),
    ] as [(HTTPVersion, String?, Bool)])
    func theConnectionIsReusedOnlyWhenTheAnswerAllowsIt(version: HTTPVersion, connection: String?, reused: Bool) {
        for limit in [nil, 1024] as [Int?] {
            var machine = Machine(endpoint: Self.endpoint)
            _ = start(&machine, Call("a"), wholeUpTo: limit)
            _ = read(&machine, Self.head(version: version, connection: connection))
            _ = read(&machine, Self.body("{}"))
            let answer = limit == nil ? "stream ended" : "200 {}"
            #expect(read(&machine, .end(nil)) == .finish("a", reuse: reused, answer: answer))
            if reused {
                #expect(start(&machine, Call("b")) == .write(checkAt: t0 + .seconds(10)))
            } else {
                #expect(Self.seen(machine.channelInactive()) == .close)
                #expect(start(&machine, Call("b"), isActive: false) == .refuse(error: "eof"))
            }
        }
    }

    // MARK: - Errors and closes

    @Test func anErrorMidBodyFailsTheCallAndClosesTheConnection() {
        var machine = Machine(endpoint: Self.endpoint)
        _ = start(&machine, Call("a"))
        _ = read(&machine, Self.head())
        #expect(read(&machine, Self.body("data: 1\n\n")) == .forwardBody("a", "data: 1\n\n"))
        #expect(Self.seen(machine.errorCaught(Broken(id: 1))) == .failAndClose("a", error: "broken 1"))
        // What follows finds no exchange: nothing more reaches the caller.
        #expect(read(&machine, Self.body("data: 2\n\n")) == .none)
        #expect(read(&machine, .end(nil)) == .none)
        #expect(Self.seen(machine.channelInactive()) == .close)
        // The connection's own end is what a request started on it now gets.
        #expect(start(&machine, Call("b"), isActive: false) == .refuse(error: "eof"))
    }

    @Test func theConnectionClosedBeforeTheHead() {
        var machine = Machine(endpoint: Self.endpoint)
        _ = start(&machine, Call("a"), wholeUpTo: 64)
        #expect(Self.seen(machine.channelInactive()) == .failAndClose("a", error: "eof"))
        #expect(read(&machine, Self.head()) == .none)
        #expect(start(&machine, Call("b"), isActive: false) == .refuse(error: "closed channel"))
    }

    @Test(arguments: [nil, 64] as [Int?])
    func theConnectionClosedMidBody(wholeUpTo limit: Int?) {
        var machine = Machine(endpoint: Self.endpoint)
        _ = start(&machine, Call("a"), wholeUpTo: limit)
        _ = read(&machine, Self.head())
        _ = read(&machine, Self.body("{\"partial"))
        #expect(Self.seen(machine.channelInactive()) == .failAndClose("a", error: "eof"))
        #expect(read(&machine, .end(nil)) == .none)
        #expect(Self.seen(machine.channelInactive()) == .close)
    }

    /// A TLS handshake refused before the first request started: that request gets the
    /// handshake's error, not the close that followed it.
    @Test func anErrorWithNoExchangeIsWhatTheNextRequestGets() {
        var machine = Machine(endpoint: Self.endpoint)
        #expect(Self.seen(machine.errorCaught(Broken(id: 1))) == .close)
        #expect(Self.seen(machine.errorCaught(Broken(id: 2))) == .close)
        #expect(Self.seen(machine.channelInactive()) == .close)
        #expect(start(&machine, Call("a"), isActive: false) == .refuse(error: "broken 1"))
        #expect(start(&machine, Call("b"), isActive: false) == .refuse(error: "broken 1"))
    }

    /// A TLS close waits for the upstream's close_notify: a request started meanwhile is
    /// written, and fails with what ends the channel.
    @Test func aRequestStartedWhileTheChannelClosesIsWrittenAndFailsWithTheClose() {
        var machine = Machine(endpoint: Self.endpoint)
        #expect(Self.seen(machine.errorCaught(Broken(id: 1))) == .close)
        #expect(start(&machine, Call("a"), isActive: true) == .write(checkAt: t0 + .seconds(10)))
        #expect(Self.seen(machine.channelInactive()) == .failAndClose("a", error: "eof"))
        #expect(start(&machine, Call("b"), isActive: false) == .refuse(error: "closed channel"))
    }

    @Test func aChannelNotOpenRefusesTheCallAndStaysAsItWas() {
        var machine = Machine(endpoint: Self.endpoint)
        #expect(start(&machine, Call("a"), isActive: false) == .refuse(error: "closed channel"))
        #expect(start(&machine, Call("b"), isActive: true) == .write(checkAt: t0 + .seconds(10)))
    }

    @Test func aSecondCallWhileOneIsOnTheConnectionIsRefused() {
        var machine = Machine(endpoint: Self.endpoint)
        _ = start(&machine, Call("a"))
        #expect(start(&machine, Call("b")) == .refuse(error: "closed channel"))
        #expect(read(&machine, Self.head()) == .forwardHead("a", status: 200))
        _ = read(&machine, Self.head())
        #expect(start(&machine, Call("c")) == .refuse(error: "closed channel"))
        #expect(read(&machine, .end(nil)) == .finish("a", reuse: true, answer: "stream ended"))
    }

    // MARK: - Abandoned calls

    @Test func aCallAbandonedBeforeItStartsIsCancelledAndSendsNothing() {
        var machine = Machine(endpoint: Self.endpoint)
        let a = Call("a")
        #expect(Self.seen(machine.abandon(a)) == .markAbandoned("a"))
        #expect(start(&machine, a, abandoned: true) == .cancel)
        // Even on a connection that can take no call: nothing was sent, nothing is lost.
        _ = machine.channelInactive()
        #expect(start(&machine, Call("b"), abandoned: true) == .cancel)
    }

    @Test(arguments: [nil, 64] as [Int?])
    func aCallAbandonedOnTheConnectionFailsAndClosesIt(wholeUpTo limit: Int?) {
        var machine = Machine(endpoint: Self.endpoint)
        let a = Call("a")
        _ = start(&machine, a, wholeUpTo: limit)
        _ = read(&machine, Self.head())
        _ = read(&machine, Self.body("{"))
        #expect(Self.seen(machine.abandon(a)) == .failAndClose("a", error: "cancelled"))
        #expect(read(&machine, Self.body("}")) == .none)
        #expect(read(&machine, .end(nil)) == .none)
        #expect(start(&machine, Call("b"), isActive: false) == .refuse(error: "closed channel"))
    }

    @Test func abandoningAnotherCallLeavesTheCurrentOneAlone() {
        var machine = Machine(endpoint: Self.endpoint)
        let a = Call("a")
        _ = start(&machine, a)
        _ = read(&machine, Self.head())
        #expect(read(&machine, .end(nil)) == .finish("a", reuse: true, answer: "stream ended"))
        // `a`'s cancellation arrives late, once `b` is on the connection.
        _ = start(&machine, Call("b"))
        #expect(Self.seen(machine.abandon(a)) == .markAbandoned("a"))
        #expect(Self.seen(machine.abandon(Call("b"))) == .markAbandoned("b"), "another object named alike is another call")
        #expect(read(&machine, Self.head()) == .forwardHead("b", status: 200))
    }

    // MARK: - Timeouts

    @Test func theHeadMustComeByTheDeadline() {
        var machine = Machine(endpoint: Self.endpoint)
        let a = Call("a")
        #expect(start(&machine, a, deadline: .seconds(1), stall: .seconds(30)) == .write(checkAt: t0 + .seconds(1)))
        #expect(Self.seen(machine.timerFired(for: a, now: t0 + .milliseconds(999))) == .checkAgain("a", at: t0 + .seconds(1)))
        #expect(Self.seen(machine.timerFired(for: a, now: t0 + .seconds(1))) == .failAndClose(
            "a", error: "timed out: timed out waiting for an answer from upstream.test:8443"
        ))
        #expect(read(&machine, Self.head()) == .none)
        #expect(Self.seen(machine.timerFired(for: a, now: t0 + .seconds(2))) == .none)
    }

    @Test func aStallBeforeTheHeadTimesOut() {
        var machine = Machine(endpoint: Self.endpoint)
        let a = Call("a")
        #expect(start(&machine, a, deadline: .seconds(10), stall: .seconds(2)) == .write(checkAt: t0 + .seconds(2)))
        #expect(Self.seen(machine.timerFired(for: a, now: t0 + .seconds(2))) == .failAndClose(
            "a", error: "timed out: timed out waiting for data from upstream.test:8443"
        ))
    }

    /// Once the head came, the deadline no longer counts: only the gap since the last read.
    @Test(arguments: [nil, 1 << 20] as [Int?])
    func aStalledBodyTimesOut(wholeUpTo limit: Int?) {
        var machine = Machine(endpoint: Self.endpoint)
        let a = Call("a")
        _ = start(&machine, a, wholeUpTo: limit, deadline: .seconds(1), stall: .seconds(2))
        _ = read(&machine, Self.head(), at: t0 + .milliseconds(500))
        #expect(Self.seen(machine.timerFired(for: a, now: t0 + .seconds(1))) == .checkAgain("a", at: t0 + .milliseconds(2500)))
        _ = read(&machine, Self.body("x"), at: t0 + .seconds(2))
        #expect(Self.seen(machine.timerFired(for: a, now: t0 + .milliseconds(2500))) == .checkAgain("a", at: t0 + .seconds(4)))
        #expect(Self.seen(machine.timerFired(for: a, now: t0 + .seconds(4))) == .failAndClose(
            "a", error: "timed out: timed out waiting for data from upstream.test:8443"
        ))
        #expect(read(&machine, .end(nil)) == .none)
    }

    @Test func aTimerOfAnEndedExchangeDoesNothing() {
        var machine = Machine(endpoint: Self.endpoint)
        let a = Call("a")
        _ = start(&machine, a, deadline: .seconds(1), stall: .seconds(1))
        _ = read(&machine, Self.head())
        _ = read(&machine, .end(nil))
        #expect(Self.seen(machine.timerFired(for: a, now: t0 + .seconds(5))) == .none)
        let b = Call("b")
        _ = start(&machine, b, deadline: .seconds(10), stall: .seconds(10), at: t0 + .seconds(5))
        #expect(Self.seen(machine.timerFired(for: a, now: t0 + .seconds(60))) == .none)
        #expect(Self.seen(machine.timerFired(for: b, now: t0 + .seconds(6))) == .checkAgain("b", at: t0 + .seconds(15)))
    }
}
