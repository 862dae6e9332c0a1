import NIOCore
import NIOHTTP1
import PromptlineCore

/// Runs one exchange at a time on its connection: writes the request, hands on the
/// response (whole, or its head and then its body as it arrives), and watches the deadline
/// of the head and the stalls of the body.
final class UpstreamExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// How an exchange's answer reaches its caller.
    enum Delivery {
        /// Head and body together once the body ended, refused past `limit` bytes.
        case whole(limit: Int)
        /// The head at once, then the body's pieces as they arrive.
        case arriving(AsyncThrowingStream<ByteBuffer, any Error>.Continuation)
    }

    /// One request and where its answer goes. Touched only on the connection's event loop
    /// once started.
    final class Exchange: @unchecked Sendable {
        let request: HTTPRequestHead
        let body: ByteBuffer?
        let deadline: NIODeadline
        let stallTimeout: TimeAmount
        let endpoint: String
        let delivery: Delivery
        /// Called once the answer ended: `true` when the connection may serve another call.
        let done: @Sendable (Bool) -> Void
        /// The caller, until it has its answer (or its error).
        var answer: UnsafeContinuation<UpstreamResponse, any Error>?
        /// A body that arrives, until it is handed on with the head: not kept after, so that
        /// a caller that drops it half-read ends the exchange.
        var arrivingBody: UpstreamBody?
        var head: HTTPResponseHead?
        /// A whole body so far.
        var collected: ByteBuffer?
        var keepAlive = true
        var lastRead = NIODeadline.now()
        var timer: Scheduled<Void>?
        /// Given up on before it started.
        var abandoned = false

        init(
            request: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline, stallTimeout: TimeAmount, endpoint: String,
            delivery: Delivery, done: @escaping @Sendable (Bool) -> Void
        ) {
            self.request = request
            self.body = body
            self.deadline = deadline
            self.stallTimeout = stallTimeout
            self.endpoint = endpoint
            self.delivery = delivery
            self.done = done
        }

        func hand(_ response: UpstreamResponse) {
            answer?.resume(returning: response)
            answer = nil
        }

        func fail(_ error: any Error) {
            answer?.resume(throwing: error)
            answer = nil
            arrivingBody = nil
            if case .arriving(let pieces) = delivery { pieces.finish(throwing: error) }
        }
    }

    private var context: ChannelHandlerContext?
    private var current: Exchange?
    /// Why the connection ended while no exchange was on it (a TLS handshake refused before
    /// the first request started, say): the error that request gets.
    private var endedBy: (any Error)?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func start(_ exchange: Exchange) {
        guard !exchange.abandoned else {
            // Nothing was sent: the connection is as good as before.
            exchange.done(true)
            return exchange.fail(CancellationError())
        }
        guard let context, context.channel.isActive, current == nil else {
            return exchange.fail(endedBy ?? ChannelError.ioOnClosedChannel)
        }
        current = exchange
        exchange.lastRead = .now()
        armTimer(exchange)
        context.write(wrapOutboundOut(.head(exchange.request)), promise: nil)
        if let body = exchange.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// The caller gave up on `exchange` (cancelled, or dropped the body half-read).
    func abandon(_ exchange: Exchange) {
        guard current === exchange else {
            exchange.abandoned = true
            return
        }
        fail(CancellationError())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange = current else { return }
        exchange.lastRead = .now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx answers are not expected from an OpenAI-compatible API; NIO's decoder
            // hands over the final head.
            exchange.head = head
            exchange.keepAlive = head.isKeepAlive
            if let body = exchange.arrivingBody {
                exchange.arrivingBody = nil
                exchange.hand(UpstreamResponse(head: head, body: body))
            }
        case .body(var piece):
            switch exchange.delivery {
            case .arriving(let pieces):
                pieces.yield(piece)
            case .whole(let limit):
                guard (exchange.collected?.readableBytes ?? 0) + piece.readableBytes <= limit else {
                    return fail(NIOTooManyBytesError(maxBytes: limit))
                }
                if exchange.collected == nil {
                    exchange.collected = piece
                } else {
                    exchange.collected!.writeBuffer(&piece)
                }
            }
        case .end:
            current = nil
            exchange.timer?.cancel()
            // Back in the pool before the caller hears of the end, so that its next call
            // finds this connection idle.
            exchange.done(exchange.keepAlive)
            switch exchange.delivery {
            case .arriving(let pieces):
                pieces.finish()
            case .whole:
                guard let head = exchange.head else { return exchange.fail(ChannelError.eof) }
                exchange.hand(UpstreamResponse(head: head, body: UpstreamBody(storage: .whole(exchange.collected ?? ByteBuffer()))))
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
    }

    /// Ends the current exchange with `error` and closes the connection.
    private func fail(_ error: any Error) {
        guard let exchange = current else {
            if endedBy == nil { endedBy = error }
            context?.close(promise: nil)
            return
        }
        current = nil
        exchange.timer?.cancel()
        exchange.fail(error)
        context?.close(promise: nil)
    }

    /// Checks the exchange at its next deadline: the head's while it has not come, then a
    /// stall of the body after the last read.
    private func armTimer(_ exchange: Exchange) {
        guard let context else { return }
        let due = exchange.head != nil ? exchange.lastRead + exchange.stallTimeout : min(exchange.deadline, exchange.lastRead + exchange.stallTimeout)
        exchange.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) { [self] in
            guard current === exchange else { return }
            let now = NIODeadline.now()
            if exchange.head == nil, now >= exchange.deadline {
                fail(UpstreamError(.timedOut, message: "timed out waiting for an answer from \(exchange.endpoint)"))
            } else if now >= exchange.lastRead + exchange.stallTimeout {
                fail(UpstreamError(.timedOut, message: "timed out waiting for data from \(exchange.endpoint)"))
            } else {
                armTimer(exchange)
            }
        }
    }
}
