import NIOCore
import NIOHTTP1

extension UpstreamExchangeHandler {
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
        let delivery: Delivery
        /// Called once the answer ended: `true` when the connection may serve another call.
        let done: @Sendable (Bool) -> Void
        /// The caller, until it has its answer (or its error).
        var answer: UnsafeContinuation<UpstreamResponse, any Error>?
        /// A body that arrives, until it is handed on with the head: not kept after, so that
        /// a caller that drops it half-read ends the exchange.
        var arrivingBody: UpstreamBody?
        /// Given up on before it started.
        var abandoned = false

        init(
            request: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline, stallTimeout: TimeAmount, delivery: Delivery,
            done: @escaping @Sendable (Bool) -> Void
        ) {
            self.request = request
            self.body = body
            self.deadline = deadline
            self.stallTimeout = stallTimeout
            self.delivery = delivery
            self.done = done
        }

        /// The most bytes of a body read whole; `nil` for a body handed on as it arrives.
        var wholeLimit: Int? {
            if case .whole(let limit) = delivery { limit } else { nil }
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
}
