import NIOCore
import NIOHTTP1

/// Runs one exchange at a time on its connection: writes the request, hands on the
/// response (whole, or its head and then its body as it arrives), and watches the deadline
/// of the head and the stalls of the body.
///
/// What to do on each event is decided by its ``StateMachine``; the handler performs it.
final class UpstreamExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var stateMachine: StateMachine<Exchange>
    /// The check of the current exchange's deadline or stall.
    private var timer: Scheduled<Void>?

    /// `endpoint` is the upstream's `host:port`, for the messages of timeouts.
    init(endpoint: String) {
        stateMachine = StateMachine(endpoint: endpoint)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func start(_ exchange: Exchange) {
        let action = stateMachine.start(
            exchange, abandoned: exchange.abandoned, isActive: context?.channel.isActive ?? false, deadline: exchange.deadline,
            stallTimeout: exchange.stallTimeout, wholeUpTo: exchange.wholeLimit, now: .now()
        )
        switch action {
        case .write(let checkAt):
            guard let context else { return }
            armTimer(exchange, at: checkAt)
            context.write(wrapOutboundOut(.head(exchange.request)), promise: nil)
            if let body = exchange.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .cancel:
            exchange.done(true)
            exchange.fail(CancellationError())
        case .refuse(let error):
            exchange.fail(error)
        }
    }

    /// The caller gave up on `exchange` (cancelled, or dropped the body half-read).
    func abandon(_ exchange: Exchange) {
        perform(stateMachine.abandon(exchange))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(stateMachine.channelRead(unwrapInboundIn(data), now: .now()))
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(stateMachine.channelInactive())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(stateMachine.errorCaught(error))
    }

    private func perform(_ action: StateMachine<Exchange>.Action) {
        switch action {
        case .none:
            break
        case .forwardHead(let exchange, let head):
            if let body = exchange.arrivingBody {
                exchange.arrivingBody = nil
                exchange.hand(UpstreamResponse(head: head, body: body))
            }
        case .forwardBody(let exchange, let piece):
            if case .arriving(let pieces) = exchange.delivery { pieces.yield(piece) }
        case .finish(let exchange, let reuse, let answer):
            cancelTimer()
            // Back in the pool before the caller hears of the end, so that its next call
            // finds this connection idle.
            exchange.done(reuse)
            switch answer {
            case .streamEnded:
                if case .arriving(let pieces) = exchange.delivery { pieces.finish() }
            case .whole(let head, let body):
                exchange.hand(UpstreamResponse(head: head, body: UpstreamBody(storage: .whole(body))))
            case .failed(let error):
                exchange.fail(error)
            }
        case .failAndClose(let exchange, let error):
            cancelTimer()
            exchange.fail(error)
            context?.close(promise: nil)
        case .close:
            context?.close(promise: nil)
        case .checkAgain(let exchange, let due):
            armTimer(exchange, at: due)
        case .markAbandoned(let exchange):
            exchange.abandoned = true
        }
    }

    private func armTimer(_ exchange: Exchange, at due: NIODeadline) {
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) { [self] in
            timer = nil
            perform(stateMachine.timerFired(for: exchange, now: .now()))
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}
