import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PromptlineCore
import Synchronization

/// Keep-alive HTTP/1.1 connections to one upstream origin: the transport under
/// ``OpenAIClient``.
///
/// It is written on SwiftNIO directly, not on AsyncHTTPClient, for speed: a relayed chat
/// completion cost the server about 375 µs of CPU through AsyncHTTPClient and 237 µs through
/// this pool, and a drained task 30 % less (README, Performance). What it does not do, an
/// OpenAI-compatible upstream does not need: redirects (refused anyway, so the key goes
/// nowhere else), HTTP/2, proxies, cookies, compression.
///
/// One exchange per connection at a time. At most ``Configuration/maxConnections`` are
/// open; callers beyond them wait for one, and the wait counts against their deadline. A
/// connection is used again only when its answer was read to the end and the upstream did
/// not ask to close it; an answer abandoned half-read closes its connection.
final class UpstreamConnectionPool: Sendable {
    struct Configuration: Sendable {
        var origin: UpstreamOrigin
        var maxConnections: Int
        var connectTimeout: Duration
        /// For an `https` origin: the system's trust roots, unless a test trusts its own.
        var tls: TLSConfiguration = .makeClientConfiguration()
    }

    let configuration: Configuration
    private let group: any EventLoopGroup
    /// The group's loops, to know a caller running on one of them.
    private let loops: Set<ObjectIdentifier>
    private let tlsContext: NIOSSLContext?
    private let state = Mutex(State())

    private struct State {
        var idle: [UpstreamConnection] = []
        var open = 0
        /// Callers waiting for a connection, first come first served: handed an idle
        /// connection (`some`), or the right to open one (`nil`).
        var waiters: [(id: Int, continuation: CheckedContinuation<UpstreamConnection?, any Error>)] = []
        var nextWaiterID = 0
        var isShutDown = false
    }

    init(configuration: Configuration, group: any EventLoopGroup) throws {
        self.configuration = configuration
        self.group = group
        self.loops = Set(group.makeIterator().map { ObjectIdentifier($0) })
        self.tlsContext = configuration.origin.tls ? try NIOSSLContext(configuration: configuration.tls) : nil
    }

    /// Sends one request and answers the response: its head and its body, still arriving, or
    /// read whole.
    ///
    /// - Parameters:
    ///   - deadline: when the response's head must have arrived, waiting for a connection included.
    ///   - stallTimeout: the longest the body may go without a byte.
    ///   - limit: `nil` to answer at the head, the body following as it arrives; else the
    ///     most bytes of a body read whole before answering.
    /// - Throws: ``UpstreamError`` `.timedOut`, NIO's connection errors, `NIOTooManyBytesError`,
    ///   `CancellationError`.
    func send(
        _ head: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline, stallTimeout: TimeAmount, wholeUpTo limit: Int?
    ) async throws -> UpstreamResponse {
        while true {
            let (connection, reused) = try await acquire(deadline: deadline)
            do {
                return try await connection.send(head, body: body, deadline: deadline, stallTimeout: stallTimeout, wholeUpTo: limit)
            } catch {
                // An idle connection the upstream had closed (its keep-alive timeout) as the
                // request went out: the upstream did not read it. Send it again on another
                // connection; each such connection is gone on the way, so this ends with a new one.
                guard reused, Self.wasClosedByKeepAlive(error) else { throw error }
            }
        }
    }

    /// Whether `error` is a connection that had ended cleanly (or was found closed) before
    /// any answer: how an upstream's keep-alive timeout looks. A reset is not: an upstream
    /// that resets a connection with a request on it has failed that request.
    static func wasClosedByKeepAlive(_ error: any Error) -> Bool {
        switch error {
        case ChannelError.eof, ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed: true
        default: false
        }
    }

    /// Closes every idle connection and refuses new calls; calls in flight finish or fail.
    func shutdown() {
        let (idle, waiters) = state.withLock { state in
            state.isShutDown = true
            defer { state.idle = []; state.waiters = [] }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: Self.shutDownError) }
        for connection in idle { connection.close() }
    }

    static let shutDownError = UpstreamError(.connectionFailed, message: "the upstream client is shut down")

    // MARK: - Connections

    private enum Next {
        case use(UpstreamConnection)
        case open
        case wait
    }

    /// A connection for one exchange, and whether it served one before.
    ///
    /// A caller running on one of the group's event loops gets a connection on that loop
    /// when it can (an idle one, or a new one while there is room): its exchange then
    /// never changes threads.
    private func acquire(deadline: NIODeadline) async throws -> (UpstreamConnection, reused: Bool) {
        let here = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { loops.contains(ObjectIdentifier($0)) ? $0 : nil }
        while true {
            let next: Next = try state.withLock { state in
                guard !state.isShutDown else { throw Self.shutDownError }
                if let here {
                    if let index = state.idle.lastIndex(where: { $0.channel.eventLoop === here }) { return .use(state.idle.remove(at: index)) }
                } else if let connection = state.idle.popLast() {
                    return .use(connection)
                }
                if state.open < configuration.maxConnections {
                    state.open += 1
                    return .open
                }
                if let connection = state.idle.popLast() { return .use(connection) }
                return .wait
            }
            switch next {
            case .use(let connection):
                if connection.isActive { return (connection, true) }
                // Closed while idle; its close is being counted. Look again.
            case .open:
                return (try await open(on: here, deadline: deadline), false)
            case .wait:
                if let connection = try await waitForTurn(deadline: deadline) {
                    if connection.isActive { return (connection, true) }
                } else {
                    return (try await open(on: here, deadline: deadline), false)
                }
            }
        }
    }

    /// Opens a connection, on `loop` or the group's next, in a place already counted in `open`.
    private func open(on loop: (any EventLoop)?, deadline: NIODeadline) async throws -> UpstreamConnection {
        let origin = configuration.origin
        let tlsContext = tlsContext
        let connectTimeout = min(TimeAmount(configuration.connectTimeout), max(.zero, deadline - .now()))
        do {
            let (channel, handler) = try await ClientBootstrap(group: loop ?? group.next())
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(connectTimeout)
                .connect(host: origin.host, port: origin.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tlsContext {
                            // SNI takes a name, not an address.
                            let name = origin.host.contains(":") || origin.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : origin.host
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: name))
                        }
                        // Headers were checked once, where they are made (``OpenAIClient``).
                        try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                        let handler = UpstreamExchangeHandler()
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                }
            let connection = UpstreamConnection(channel: channel, handler: handler, pool: self)
            channel.closeFuture.whenComplete { _ in self.closed(connection) }
            return connection
        } catch {
            placeFreed()
            throw error
        }
    }

    /// Waits for an idle connection or a free place; `nil` is a place to open one in.
    private func waitForTurn(deadline: NIODeadline) async throws -> UpstreamConnection? {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        let timeout = group.next().scheduleTask(deadline: deadline) {
            self.removeWaiter(id, error: UpstreamError(
                .timedOut, message: "timed out waiting for a free connection to \(self.configuration.origin.endpoint)"))
        }
        defer { timeout.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let refused: (any Error)? = state.withLock { state in
                    if state.isShutDown { return Self.shutDownError }
                    if Task.isCancelled { return CancellationError() }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let refused { continuation.resume(throwing: refused) }
            }
        } onCancel: {
            removeWaiter(id, error: CancellationError())
        }
    }

    private func removeWaiter(_ id: Int, error: any Error) {
        let waiter = state.withLock { state in
            state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// A connection finished its exchange cleanly: the next waiter gets it, or it idles.
    func release(_ connection: UpstreamConnection) {
        enum Action { case handOver(CheckedContinuation<UpstreamConnection?, any Error>), idle, close }
        let action: Action = state.withLock { state in
            if !state.waiters.isEmpty { return .handOver(state.waiters.removeFirst().continuation) }
            if state.isShutDown { return .close }
            state.idle.append(connection)
            return .idle
        }
        switch action {
        case .handOver(let waiter): waiter.resume(returning: connection)
        case .idle: break
        case .close: connection.close()
        }
    }

    private func closed(_ connection: UpstreamConnection) {
        state.withLock { state in
            if let index = state.idle.firstIndex(where: { $0 === connection }) { state.idle.remove(at: index) }
        }
        placeFreed()
    }

    /// A place was given back: the next waiter may open a connection in it.
    private func placeFreed() {
        let waiter = state.withLock { state -> CheckedContinuation<UpstreamConnection?, any Error>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.open -= 1
            return nil
        }
        waiter?.resume(returning: nil)
    }
}

/// Where a base URL points: scheme, host, port (the scheme's default when absent) and path.
struct UpstreamOrigin: Sendable {
    let tls: Bool
    let host: String
    let port: Int
    /// Without a trailing slash: `/v1`, or empty.
    let path: String
    /// `host:port`, for messages.
    let endpoint: String
    /// The `Host` header: the port only when it is not the scheme's own, as browsers and
    /// AsyncHTTPClient send it (some front ends route on the exact header).
    let hostHeader: String

    init?(_ url: String) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
              var host = parsed.host, !host.isEmpty
        else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // It goes into the Host header as it is.
        guard host.utf8.allSatisfy(Self.isVisibleASCII) else { return nil }
        tls = scheme == "https"
        self.host = host
        port = parsed.port ?? (tls ? 443 : 80)
        var path = parsed.path
        while path.hasSuffix("/") { path.removeLast() }
        self.path = path
        let bracketedHost = host.contains(":") ? "[\(host)]" : host
        endpoint = "\(bracketedHost):\(port)"
        hostHeader = port == (tls ? 443 : 80) ? bracketedHost : endpoint
    }

    /// Whether `byte` may stand in a header value as it is: a printable ASCII character,
    /// not a space. The pool's connections do not check their requests' headers again.
    static func isVisibleASCII(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte)
    }
}

/// An upstream's answer: its head and its body.
public struct UpstreamResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: UpstreamBody
}

/// The body of an upstream's answer: read whole before the answer was handed over, or
/// still arriving, in the pieces it arrives in. Reading a body that arrives to the end lets
/// its connection serve another call; dropping it half-read closes the connection.
public struct UpstreamBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    enum Storage: Sendable {
        case whole(ByteBuffer)
        case arriving(AsyncThrowingStream<ByteBuffer, any Error>)
    }

    let storage: Storage

    public func makeAsyncIterator() -> AsyncIterator {
        switch storage {
        case .whole(let body): AsyncIterator(whole: body.readableBytes > 0 ? body : nil, arriving: nil)
        case .arriving(let stream): AsyncIterator(whole: nil, arriving: stream.makeAsyncIterator())
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var whole: ByteBuffer?
        var arriving: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator?

        public mutating func next() async throws -> ByteBuffer? {
            if arriving != nil { return try await arriving!.next() }
            defer { whole = nil }
            return whole
        }
    }

    /// The whole body, refused when it is or grows past `limit` bytes.
    public func collect(upTo limit: Int) async throws -> ByteBuffer {
        if case .whole(let body) = storage {
            guard body.readableBytes <= limit else { throw NIOTooManyBytesError(maxBytes: limit) }
            return body
        }
        var whole = ByteBuffer()
        for try await var piece in self {
            guard whole.readableBytes + piece.readableBytes <= limit else { throw NIOTooManyBytesError(maxBytes: limit) }
            whole.writeBuffer(&piece)
        }
        return whole
    }
}

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
            request: head, body: body, deadline: deadline, stallTimeout: stallTimeout,
            endpoint: pool.configuration.origin.endpoint, delivery: delivery,
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
