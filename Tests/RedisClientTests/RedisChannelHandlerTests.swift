import NIOCore
import NIOEmbedded
@testable import RedisClient
import Testing

/// The handler on an `EmbeddedChannel`: no socket, and time only moves when the test says so.
@Suite struct RedisChannelHandlerTests {
    /// A connected channel with the handler, and every push it handed on.
    struct Harness {
        let channel: EmbeddedChannel
        let pushes = Locked<[RESPValue]>([])

        init() throws {
            channel = EmbeddedChannel()
            let pushes = self.pushes
            try channel.pipeline.syncOperations.addHandler(RedisChannelHandler { push in
                pushes.withLock { $0.append(push) }
            })
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        }

        var loop: EmbeddedEventLoop { channel.embeddedEventLoop }

        /// Writes a request with one reply promise per command, and returns the replies.
        @discardableResult
        func send(_ words: [String]..., timeout: TimeAmount = .hours(1), written: EventLoopPromise<Void>? = nil) throws -> [Reply] {
            var encoder = RESPCommandEncoder()
            for command in words {
                encoder.start(command[0])
                encoder.append(contentsOf: command.dropFirst())
                encoder.finish()
            }
            let promises = words.map { _ in loop.makePromise(of: RESPValue.self) }
            let request = RedisChannelHandler.Request(bytes: encoder.buffer, promises: promises, deadline: loop.now + timeout)
            channel.writeAndFlush(request, promise: written)
            return promises.map { Reply($0.futureResult) }
        }

        func receive(_ text: String) throws {
            try channel.writeInbound(ByteBuffer(string: text))
        }

        func outbound() throws -> String? {
            try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) }
        }

        func finish() throws {
            _ = try channel.finish(acceptAlreadyClosed: true)
        }
    }

    /// What became of one command's reply, read without waiting.
    final class Reply: Sendable {
        private let result = Locked<Result<RESPValue, any Error>?>(nil)

        init(_ future: EventLoopFuture<RESPValue>) {
            future.whenComplete { [result] outcome in result.withLock { $0 = outcome } }
        }

        var isPending: Bool { result.value == nil }
        var value: RESPValue? { try? result.value?.get() }
        var error: RedisClientError? {
            guard case .failure(let error) = result.value else { return nil }
            return error as? RedisClientError
        }
    }

    @Test func writesTheCommandBytes() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        try harness.send(["SET", "k", "v"], ["GET", "k"])
        #expect(try harness.outbound() == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        try harness.receive("+OK\r\n$1\r\nv\r\n")
    }

    @Test func repliesGoToCommandsInOrder() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        let first = try harness.send(["PING"])
        let pipelined = try harness.send(["INCR", "a"], ["GET", "b"], ["GET", "c"])
        let last = try harness.send(["ECHO", "x"])
        try harness.receive("+PONG\r\n:1\r\n$2\r\nbb")
        #expect(first[0].value == .simpleString("PONG"))
        #expect(pipelined[0].value == .integer(1))
        #expect(pipelined[1].isPending)
        try harness.receive("\r\n_\r\n")
        #expect(pipelined[1].value == bulk("bb"))
        #expect(pipelined[2].value == .null)
        #expect(last[0].isPending)
        try harness.receive("-ERR oops\r\n")
        // An error reply is a reply: it goes to its command, and the connection stays open.
        #expect(last[0].value == .error("ERR oops"))
        #expect(harness.channel.isActive)
    }

    @Test func repliesArrivingOneByteAtATime() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        let replies = try harness.send(["A"], ["B"], ["C"], ["D"])
        let stream = "%1\r\n+k\r\n*2\r\n:1\r\n:2\r\n$3\r\na\r\n\r\n>2\r\n+pushed\r\n:1\r\n,1.5\r\n#t\r\n"
        for byte in stream.utf8 {
            try harness.channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(replies.map(\.value) == [
            .map([.init(.simpleString("k"), .array([.integer(1), .integer(2)]))]),
            bulk("a\r\n"),
            .double(1.5),
            .boolean(true),
        ])
        #expect(harness.pushes.value == [.push([.simpleString("pushed"), .integer(1)])])
    }

    @Test func aPushGoesToOnPushAndDoesNotTakeAReply() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        let replies = try harness.send(["GET", "k"])
        try harness.receive(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n")
        #expect(replies[0].isPending)
        #expect(harness.pushes.value == [.push([bulk("message"), bulk("ch"), bulk("hi")])])
        try harness.receive("$1\r\nv\r\n>2\r\n+a\r\n+b\r\n")
        #expect(replies[0].value == bulk("v"))
        #expect(harness.pushes.value.count == 2)
        // With nothing pending, a push is still welcome.
        #expect(harness.channel.isActive)
    }

    @Test func resp2PubSubMessagesWithNothingPendingArePushes() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        try harness.receive("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n")
        #expect(harness.pushes.value == [
            .array([bulk("subscribe"), bulk("ch"), .integer(1)]),
            .array([bulk("message"), bulk("ch"), bulk("hello")]),
        ])
        #expect(harness.channel.isActive)
    }

    @Test func aReplyWithNothingPendingClosesTheChannel() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        let answered = try harness.send(["PING"])
        try harness.receive("+PONG\r\n+UNEXPECTED\r\n")
        #expect(answered[0].value == .simpleString("PONG"))
        #expect(!harness.channel.isActive)
        #expect(harness.pushes.value.isEmpty)
        // What came before stays answered; what comes after fails at once.
        #expect(answered[0].error == nil)
        let later = try harness.send(["PING"])
        #expect(later[0].error?.code == .protocolError)
    }

    @Test func aMalformedReplyFailsEverythingPendingAndCloses() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        let replies = try harness.send(["A"], ["B"], ["C"])
        try harness.receive(":1\r\n?garbage\r\n:3\r\n")
        #expect(replies[0].value == .integer(1))
        #expect(replies[1].error?.code == .protocolError)
        #expect(replies[2].error?.code == .protocolError)
        #expect(replies[1].error?.underlying is RESPParsingError)
        #expect(!harness.channel.isActive)
    }

    @Test func closingFailsEverythingPending() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        let replies = try harness.send(["A"], ["B"])
        try harness.receive(":1\r\n")
        try harness.channel.close().wait()
        #expect(replies[0].value == .integer(1))
        #expect(replies[1].error?.code == .connectionClosed)
        #expect(replies[1].error?.isUnavailable == true)
    }

    @Test func anErrorInThePipelineFailsEverythingPendingAndCloses() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        let replies = try harness.send(["A"])
        struct Broken: Error {}
        harness.channel.pipeline.fireErrorCaught(Broken())
        #expect(replies[0].error?.code == .connectionClosed)
        #expect(replies[0].error?.underlying is Broken)
        #expect(!harness.channel.isActive)
    }

    @Test func writingAfterCloseFailsAtOnce() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        try harness.channel.close().wait()
        let written = harness.loop.makePromise(of: Void.self)
        let replies = try harness.send(["A"], ["B"], written: written)
        #expect(replies.allSatisfy { $0.error?.code == .connectionClosed })
        let writeFailed = Locked(false)
        written.futureResult.whenFailure { _ in writeFailed.withLock { $0 = true } }
        #expect(writeFailed.value)
        #expect(try harness.outbound() == nil)
    }

    @Test func aCommandPastItsDeadlineTimesOutAndCloses() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        let replies = try harness.send(["BLPOP", "q", "0"], ["PING"], timeout: .milliseconds(200))
        harness.loop.advanceTime(by: .milliseconds(150))
        #expect(replies[0].isPending)
        #expect(harness.channel.isActive)
        harness.loop.advanceTime(by: .milliseconds(100))
        #expect(replies[0].error?.code == .timeout)
        #expect(replies[1].error?.code == .timeout)
        #expect(replies[0].error?.isUnavailable == true)
        #expect(!harness.channel.isActive)
        // A late reply finds the channel closed and is dropped.
        try? harness.receive("+late\r\n")
        #expect(replies[0].error?.code == .timeout)
    }

    @Test func anAnsweredCommandsDeadlineDoesNotTimeOutTheNextOne() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        let early = try harness.send(["A"], timeout: .milliseconds(100))
        let later = try harness.send(["B"], timeout: .milliseconds(1_000))
        harness.loop.advanceTime(by: .milliseconds(50))
        try harness.receive("+a\r\n")
        #expect(early[0].value == .simpleString("a"))
        // The timer armed for the first command fires, finds the second within its time.
        harness.loop.advanceTime(by: .milliseconds(500))
        #expect(later[0].isPending)
        #expect(harness.channel.isActive)
        try harness.receive("+b\r\n")
        #expect(later[0].value == .simpleString("b"))
        harness.loop.advanceTime(by: .seconds(5))
        #expect(harness.channel.isActive)
    }

    @Test func aLaterCommandWithAnEarlierDeadlineTimesOutWhenItIsTheOldest() throws {
        let harness = try Harness()
        defer { try? harness.finish() }
        let slow = try harness.send(["A"], timeout: .seconds(10))
        let quick = try harness.send(["B"], timeout: .milliseconds(100))
        harness.loop.advanceTime(by: .milliseconds(200))
        // Replies come in order: the second cannot be answered before the first, so only
        // the oldest command's deadline counts until it is answered.
        #expect(quick[0].isPending)
        try harness.receive("+a\r\n")
        #expect(slow[0].value == .simpleString("a"))
        harness.loop.advanceTime(by: .seconds(10))
        #expect(quick[0].error?.code == .timeout)
        #expect(!harness.channel.isActive)
    }
}

/// The state machine alone, with plain values standing for promises.
@Suite struct RedisChannelHandlerStateMachineTests {
    typealias Machine = RedisChannelHandler.StateMachine<String>

    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func reply(_ machine: inout Machine, _ value: RESPValue = .simpleString("OK")) -> String? {
        if case .reply(let promise) = machine.receive(value) { return promise }
        return nil
    }

    @Test func repliesGoFirstInFirstOut() {
        var machine = Machine()
        guard case .write = machine.send(["a"], deadline: start) else { Issue.record("not written"); return }
        guard case .write = machine.send(["b", "c"], deadline: start) else { Issue.record("not written"); return }
        #expect(machine.waitingCount == 3)
        #expect(reply(&machine) == "a")
        #expect(reply(&machine) == "b")
        #expect(machine.waitingCount == 1)
        _ = machine.send(["d"], deadline: start)
        #expect(reply(&machine) == "c")
        #expect(reply(&machine) == "d")
        #expect(machine.waitingCount == 0)
        #expect(!machine.isClosed)
    }

    @Test func pushesDoNotTakeAReply() {
        var machine = Machine()
        _ = machine.send(["a"], deadline: start)
        guard case .push = machine.receive(.push([bulk("message"), bulk("c"), bulk("x")])) else {
            Issue.record("a push is not a reply")
            return
        }
        #expect(machine.waitingCount == 1)
        #expect(reply(&machine) == "a")
    }

    @Test func resp2PubSubArraysArePushesOnlyWhenNothingWaits() {
        var machine = Machine()
        let message = RESPValue.array([bulk("message"), bulk("c"), bulk("x")])
        guard case .push = machine.receive(message) else { Issue.record("expected a push"); return }
        _ = machine.send(["a"], deadline: start)
        // A command waiting takes it: it may be the reply to, say, LRANGE.
        #expect(reply(&machine, message) == "a")
        for kind in ["message", "pmessage", "smessage", "subscribe", "psubscribe", "unsubscribe", "punsubscribe"] {
            #expect(Machine.isPubSubMessage(.array([bulk(kind), bulk("c"), .integer(1)])), "\(kind)")
        }
        #expect(!Machine.isPubSubMessage(.array([bulk("other"), bulk("c")])))
        #expect(!Machine.isPubSubMessage(.array([])))
        #expect(!Machine.isPubSubMessage(bulk("message")))
    }

    @Test func aReplyNobodyWaitsForClosesTheConnection() {
        var machine = Machine()
        guard case .close(let promises, let error) = machine.receive(.simpleString("OK")) else {
            Issue.record("expected close")
            return
        }
        #expect(promises.isEmpty)
        #expect(error.code == .protocolError)
        #expect(machine.isClosed)
        guard case .fail(let failed, let sendError) = machine.send(["a", "b"], deadline: start) else {
            Issue.record("a closed connection writes nothing")
            return
        }
        #expect(failed == ["a", "b"])
        #expect(sendError.code == .protocolError)
        guard case .ignore = machine.receive(.simpleString("OK")) else { Issue.record("expected ignore"); return }
    }

    @Test func closingHandsBackEveryPromiseOnce() {
        var machine = Machine()
        _ = machine.send(["a", "b"], deadline: start)
        _ = machine.send(["c"], deadline: start)
        _ = reply(&machine)
        #expect(machine.closed(with: RedisClientError(.connectionClosed, "closed")) == ["b", "c"])
        #expect(machine.closed(with: RedisClientError(.connectionClosed, "closed")) == [])
        #expect(machine.isClosed)
        #expect(machine.waitingCount == 0)
        guard case .fail(let failed, let error) = machine.send(["d"], deadline: start) else {
            Issue.record("expected fail")
            return
        }
        #expect(failed == ["d"])
        #expect(error.code == .connectionClosed)
        guard case .none = machine.checkDeadlines(now: start + .hours(1)) else { Issue.record("expected none"); return }
    }

    @Test func deadlines() {
        var machine = Machine()
        guard case .none = machine.checkDeadlines(now: start) else { Issue.record("nothing waits"); return }
        _ = machine.send(["a"], deadline: start + .seconds(1))
        _ = machine.send(["b"], deadline: start + .milliseconds(500))
        guard case .schedule(let next) = machine.checkDeadlines(now: start) else { Issue.record("expected schedule"); return }
        #expect(next == start + .seconds(1), "only the oldest command's deadline counts")
        _ = reply(&machine)
        guard case .close(let promises, let error) = machine.checkDeadlines(now: start + .milliseconds(500)) else {
            Issue.record("expected close")
            return
        }
        #expect(promises == ["b"])
        #expect(error.code == .timeout)
        #expect(machine.isClosed)
    }

    @Test func anExactlyReachedDeadlineHasPassed() {
        var machine = Machine()
        _ = machine.send(["a", "b"], deadline: start)
        guard case .close(let promises, _) = machine.checkDeadlines(now: start) else { Issue.record("expected close"); return }
        #expect(promises == ["a", "b"])
    }
}
