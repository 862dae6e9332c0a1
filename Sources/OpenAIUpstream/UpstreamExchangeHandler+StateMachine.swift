import NIOCore
import NIOHTTP1
import PromptlineCore

extension UpstreamExchangeHandler {
    /// The connection's states and what to do on each event, free of I/O so that it can be
    /// tested on its own: the handler tells it what happened (a request to start, a part of
    /// the answer read, an error, the close, a timer) and performs the action it answers.
    ///
    /// One exchange at a time. Its request is written whole; the answer's head must come by
    /// the exchange's deadline, and no read may be further apart than its stall timeout. The
    /// connection serves another call only when the answer was read to its end and its head
    /// did not ask to close it (`Connection: close`, HTTP/1.0 without keep-alive); anything
    /// that ends an exchange early closes it.
    ///
    /// `Exchange` stands for one call: the handler's ``UpstreamExchangeHandler/Exchange``, a
    /// plain object in tests. The machine only compares it by identity and hands it back.
    struct StateMachine<Exchange: AnyObject> {
        /// The exchange on the connection, as far as the decisions need it.
        private struct Current {
            let exchange: Exchange
            /// When the answer's head must have come.
            let deadline: NIODeadline
            /// The longest the connection may go without a read.
            let stallTimeout: TimeAmount
            /// `nil`: the body is handed on as it arrives; else the most bytes of a body read whole.
            let wholeLimit: Int?
            var lastRead: NIODeadline
            /// A body read whole, so far.
            var collected: ByteBuffer?

            /// Takes a piece of the body read at `now`: refused when it would grow a body read
            /// whole past its limit.
            mutating func take(_ piece: ByteBuffer, now: NIODeadline) throws(NIOTooManyBytesError) {
                lastRead = now
                guard let wholeLimit else { return }
                guard (collected?.readableBytes ?? 0) + piece.readableBytes <= wholeLimit else {
                    throw NIOTooManyBytesError(maxBytes: wholeLimit)
                }
                if collected == nil {
                    collected = piece
                } else {
                    var piece = piece
                    collected!.writeBuffer(&piece)
                }
            }
        }

        private enum State {
            /// Open, no exchange on it.
            case idle
            /// The request is written; the answer's head has not come.
            case awaitingHead(Current)
            /// The head came; the body is arriving.
            case receivingBody(Current, head: HTTPResponseHead)
            /// Asked to close, or closed; no exchange on it. `reason` is the first error that came
            /// while no exchange was on the connection (a TLS handshake refused before the first
            /// request started, say): what a request started once the channel is closed fails with.
            case closing(reason: (any Error)?)
            /// Mid-change, so that a body being collected is not copied on write.
            case modifying
        }

        private var state: State = .idle
        /// `host:port`, for the messages of timeouts.
        private let endpoint: String

        init(endpoint: String) {
            self.endpoint = endpoint
        }

        // MARK: - Starting

        enum StartAction {
            /// Write the request; check the exchange's time at `checkAt`.
            case write(checkAt: NIODeadline)
            /// The caller gave up before its request was written: nothing was sent, the
            /// connection serves the next call; the caller gets a `CancellationError`.
            case cancel
            /// The connection cannot take the exchange: fail it with this error.
            case refuse(any Error)
        }

        /// A caller hands its exchange to the connection at `now`.
        ///
        /// - Parameters:
        ///   - abandoned: whether the caller gave up on it already (``abandon(_:)`` came first).
        ///   - isActive: whether the channel is open.
        ///   - deadline: when the answer's head must have come.
        ///   - stallTimeout: the longest the connection may go without a read.
        ///   - limit: `nil` to hand on the head at once and the body as it arrives; else the
        ///     most bytes of a body read whole before the answer is handed on.
        mutating func start(
            _ exchange: Exchange, abandoned: Bool, isActive: Bool, deadline: NIODeadline, stallTimeout: TimeAmount,
            wholeUpTo limit: Int?, now: NIODeadline
        ) -> StartAction {
            if abandoned { return .cancel }
            switch state {
            // A connection asked to close stays open while a TLS close waits for the upstream's
            // close_notify: a request started then is written all the same, and fails with what
            // ends the channel. (Refused here with `reason`, it would fail with another error,
            // and the pool decides by the error whether to send it again on another connection.)
            case .idle where isActive, .closing where isActive:
                let current = Current(
                    exchange: exchange, deadline: deadline, stallTimeout: stallTimeout, wholeLimit: limit, lastRead: now, collected: nil
                )
                state = .awaitingHead(current)
                return .write(checkAt: min(deadline, now + stallTimeout))
            case .idle, .awaitingHead, .receivingBody:
                return .refuse(ChannelError.ioOnClosedChannel)
            case .closing(let reason):
                return .refuse(reason ?? ChannelError.ioOnClosedChannel)
            case .modifying:
                preconditionFailure("reentrant state change")
            }
        }

        // MARK: - Events of the exchange

        /// How a finished exchange's caller gets its answer.
        enum Answer {
            /// The body handed on as it arrived has ended.
            case streamEnded
            /// The answer read whole.
            case whole(HTTPResponseHead, ByteBuffer)
            /// The answer ended without a head.
            case failed(any Error)
        }

        enum Action {
            /// Nothing to do.
            case none
            /// Hand the caller the answer's head; its body follows.
            case forwardHead(Exchange, HTTPResponseHead)
            /// Hand the caller a piece of the body.
            case forwardBody(Exchange, ByteBuffer)
            /// The answer ended: give the connection back (`reuse`: it may serve another call;
            /// else it is to be closed), then hand the caller its answer.
            case finish(Exchange, reuse: Bool, Answer)
            /// Fail the exchange with this error and close the connection.
            case failAndClose(Exchange, any Error)
            /// Close the connection (a no-op when it is closed already).
            case close
            /// Check the exchange's time again at this deadline.
            case checkAgain(Exchange, at: NIODeadline)
            /// The caller gave up on an exchange that has not started (or has ended): remember
            /// it, so that it never starts.
            case markAbandoned(Exchange)
        }

        /// A part of the answer was read at `now`.
        mutating func channelRead(_ part: HTTPClientResponsePart, now: NIODeadline) -> Action {
            switch part {
            case .head(let head): headRead(head, now: now)
            case .body(let piece): bodyRead(piece, now: now)
            case .end: endRead()
            }
        }

        private mutating func headRead(_ head: HTTPResponseHead, now: NIODeadline) -> Action {
            switch state {
            case .awaitingHead(var current):
                // 1xx answers are not expected from an OpenAI-compatible API; NIO's decoder
                // hands over the final head.
                current.lastRead = now
                state = .receivingBody(current, head: head)
                return current.wholeLimit == nil ? .forwardHead(current.exchange, head) : .none
            case .receivingBody(var current, _):
                // A second head replaces the first; a body handed on as it arrives went with the first.
                current.lastRead = now
                state = .receivingBody(current, head: head)
                return .none
            case .idle, .closing:
                return .none
            case .modifying:
                preconditionFailure("reentrant state change")
            }
        }

        private mutating func bodyRead(_ piece: ByteBuffer, now: NIODeadline) -> Action {
            switch state {
            case .awaitingHead(var current):
                state = .modifying
                do { try current.take(piece, now: now) } catch { return fail(current, error) }
                state = .awaitingHead(current)
                return current.wholeLimit == nil ? .forwardBody(current.exchange, piece) : .none
            case .receivingBody(var current, let head):
                state = .modifying
                do { try current.take(piece, now: now) } catch { return fail(current, error) }
                state = .receivingBody(current, head: head)
                return current.wholeLimit == nil ? .forwardBody(current.exchange, piece) : .none
            case .idle, .closing:
                return .none
            case .modifying:
                preconditionFailure("reentrant state change")
            }
        }

        /// Ends the exchange on the connection with `error`, and the connection with it.
        private mutating func fail(_ current: Current, _ error: any Error) -> Action {
            state = .closing(reason: nil)
            return .failAndClose(current.exchange, error)
        }

        private mutating func endRead() -> Action {
            switch state {
            case .awaitingHead(let current):
                // NIO's decoder ends no answer without a head. Were one to, nothing is left
                // unread on the connection, but the caller has no answer.
                state = .idle
                return .finish(current.exchange, reuse: true, .failed(ChannelError.eof))
            case .receivingBody(let current, let head):
                let reuse = head.isKeepAlive
                state = reuse ? .idle : .closing(reason: nil)
                guard current.wholeLimit != nil else { return .finish(current.exchange, reuse: reuse, .streamEnded) }
                return .finish(current.exchange, reuse: reuse, .whole(head, current.collected ?? ByteBuffer()))
            case .idle, .closing:
                return .none
            case .modifying:
                preconditionFailure("reentrant state change")
            }
        }

        /// The caller gave up on `exchange` (cancelled, or dropped the body half-read).
        mutating func abandon(_ exchange: Exchange) -> Action {
            switch state {
            case .awaitingHead(let current) where current.exchange === exchange,
                 .receivingBody(let current, _) where current.exchange === exchange:
                return fail(current, CancellationError())
            case .idle, .awaitingHead, .receivingBody, .closing:
                return .markAbandoned(exchange)
            case .modifying:
                preconditionFailure("reentrant state change")
            }
        }

        /// The timer armed for `exchange` fired at `now`: the head's deadline while it has not
        /// come, then a stall after the last read.
        mutating func timerFired(for exchange: Exchange, now: NIODeadline) -> Action {
            switch state {
            case .awaitingHead(let current) where current.exchange === exchange:
                if now >= current.deadline { return timedOut(current, "timed out waiting for an answer from \(endpoint)") }
                if now >= current.lastRead + current.stallTimeout { return timedOut(current, "timed out waiting for data from \(endpoint)") }
                return .checkAgain(exchange, at: min(current.deadline, current.lastRead + current.stallTimeout))
            case .receivingBody(let current, _) where current.exchange === exchange:
                if now >= current.lastRead + current.stallTimeout { return timedOut(current, "timed out waiting for data from \(endpoint)") }
                return .checkAgain(exchange, at: current.lastRead + current.stallTimeout)
            case .idle, .awaitingHead, .receivingBody, .closing:
                return .none
            case .modifying:
                preconditionFailure("reentrant state change")
            }
        }

        private mutating func timedOut(_ current: Current, _ message: String) -> Action {
            fail(current, UpstreamError(.timedOut, message: message))
        }

        // MARK: - Events of the connection

        /// An error came down the pipeline (a reset, a TLS failure, a malformed answer).
        mutating func errorCaught(_ error: any Error) -> Action {
            switch state {
            case .awaitingHead(let current), .receivingBody(let current, _):
                return fail(current, error)
            case .idle:
                state = .closing(reason: error)
                return .close
            case .closing(let reason):
                state = .closing(reason: reason ?? error)
                return .close
            case .modifying:
                preconditionFailure("reentrant state change")
            }
        }

        /// The connection closed.
        mutating func channelInactive() -> Action {
            errorCaught(ChannelError.eof)
        }
    }
}
