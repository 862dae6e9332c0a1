import NIOCore

/// The channel handler of one Redis connection: writes commands, parses replies and hands
/// each to the command waiting for it (see ``StateMachine``).
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    /// Encoded commands and one promise per reply they will get.
    struct Request {
        var bytes: ByteBuffer
        var promises: [EventLoopPromise<RESPValue>]
        var deadline: NIODeadline
    }

    private var stateMachine = StateMachine<EventLoopPromise<RESPValue>>()
    private var received: ByteBuffer?
    private let parser = RESPParser()
    private let onPush: @Sendable (RESPValue) -> Void
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var context: ChannelHandlerContext?

    /// `onPush` gets every message Redis sends on its own (pub/sub), on the event loop.
    init(onPush: @escaping @Sendable (RESPValue) -> Void = { _ in }) {
        self.onPush = onPush
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(RedisClientError(.connectionClosed, "the connection to Redis was closed"))
        self.context = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        switch stateMachine.send(request.promises, deadline: request.deadline) {
        case .write:
            context.write(wrapOutboundOut(request.bytes), promise: promise)
            armTimer(for: request.deadline, context: context)
        case .fail(let promises, let error):
            for waiting in promises { waiting.fail(error) }
            promise?.fail(error)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var pending = received {
            pending.writeBuffer(&bytes)
            received = pending
        } else {
            received = bytes
        }
        guard var buffer = received else { return }
        received = nil
        defer {
            if buffer.readableBytes > 0 {
                buffer.discardReadBytes()
                received = buffer
            }
        }
        do {
            while let value = try parser.next(from: &buffer) {
                switch stateMachine.receive(value) {
                case .reply(let promise):
                    promise.succeed(value)
                case .push:
                    onPush(value)
                case .close(let promises, let error):
                    for promise in promises { promise.fail(error) }
                    context.close(promise: nil)
                    return
                case .ignore:
                    return
                }
            }
        } catch {
            let failure = RedisClientError(.protocolError, "\(error)", underlying: error)
            for promise in stateMachine.closed(with: failure) { promise.fail(failure) }
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(RedisClientError(.connectionClosed, "the connection to Redis was closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(RedisClientError(.connectionClosed, "the connection to Redis failed: \(error)", underlying: error))
        context.close(promise: nil)
    }

    private func fail(_ error: RedisClientError) {
        timer?.cancel()
        timer = nil
        for promise in stateMachine.closed(with: error) { promise.fail(error) }
    }

    // MARK: - Deadlines

    private func armTimer(for deadline: NIODeadline, context: ChannelHandlerContext) {
        if let armed = timerDeadline, armed <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.deadlineReached()
        }
    }

    private func deadlineReached() {
        timer = nil
        timerDeadline = nil
        guard let context else { return }
        // The loop's clock, the one the timer was scheduled on (a test loop has its own).
        switch stateMachine.checkDeadlines(now: context.eventLoop.now) {
        case .none:
            break
        case .schedule(let next):
            armTimer(for: next, context: context)
        case .close(let promises, let error):
            for promise in promises { promise.fail(error) }
            context.close(promise: nil)
        }
    }
}
