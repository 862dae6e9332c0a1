import NIOCore
import NIOHTTP1

/// One connection of the pool.
final class UpstreamConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<UpstreamExchangeHandler>
    private let pool: UpstreamConnectionPool

    init(channel: any Channel, handler: NIOLoopBound<UpstreamExchangeHandler>, pool: UpstreamConnectionPool) {
        self.channel = channel
        self.handler = handler
        self.pool = pool
    }

    var isActive: Bool { channel.isActive }

    func close() {
        channel.close(promise: nil)
    }

    /// Sends one request; answers once the response's head arrived (`wholeUpTo` `nil`: the
    /// body follows as it arrives) or once the whole response did (a limit).
    func send(
        _ head: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline, stallTimeout: TimeAmount, wholeUpTo limit: Int?
    ) async throws -> UpstreamResponse {
        let handler = handler
        let eventLoop = channel.eventLoop
        let delivery: UpstreamExchangeHandler.Delivery
        var arriving: UpstreamBody?
        if let limit {
            delivery = .whole(limit: limit)
        } else {
            let (stream, pieces) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
            delivery = .arriving(pieces)
            arriving = UpstreamBody(storage: .arriving(stream))
        }
        let exchange = UpstreamExchangeHandler.Exchange(
            request: head, body: body, deadline: deadline, stallTimeout: stallTimeout, delivery: delivery,
            done: { [pool] keepAlive in
                if keepAlive { pool.release(self) } else { self.close() }
            }
        )
        if case .arriving(let pieces) = delivery {
            exchange.arrivingBody = arriving
            pieces.onTermination = { termination in
                if case .cancelled = termination {
                    eventLoop.execute { handler.value.abandon(exchange) }
                }
            }
        }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { answer in
                exchange.answer = answer
                // A caller on the connection's own loop (the usual case) starts at once.
                if eventLoop.inEventLoop {
                    handler.value.start(exchange)
                } else {
                    eventLoop.execute { handler.value.start(exchange) }
                }
            }
        } onCancel: {
            eventLoop.execute { handler.value.abandon(exchange) }
        }
    }
}
