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

    /// Sends one request and answers the response's head and its body, still arriving.
    ///
    /// - Parameters:
    ///   - deadline: when the response's head must have arrived, waiting for a connection included.
    ///   - stallTimeout: the longest the body may go without a byte.
    /// - Throws: ``UpstreamError`` `.timedOut`, NIO's connection errors, `CancellationError`.
    func send(_ head: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline, stallTimeout: TimeAmount) async throws -> UpstreamResponse {
        while true {
            let (connection, reused) = try await acquire(deadline: deadline)
            do {
                return try await connection.send(head, body: body, deadline: deadline, stallTimeout: stallTimeout)
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
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
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
    var tls: Bool
    var host: String
    var port: Int
    /// Without a trailing slash: `/v1`, or empty.
    var path: String

    init?(_ url: String) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
              var host = parsed.host, !host.isEmpty
        else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        tls = scheme == "https"
        self.host = host
        port = parsed.port ?? (tls ? 443 : 80)
        var path = parsed.path
        while path.hasSuffix("/") { path.removeLast() }
        self.path = path
    }

    /// `host:port`, for messages.
    var endpoint: String { "\(bracketedHost):\(port)" }

    /// The `Host` header: the port only when it is not the scheme's own, as browsers and
    /// AsyncHTTPClient send it (some front ends route on the exact header).
    var hostHeader: String { port == (tls ? 443 : 80) ? bracketedHost : endpoint }

    private var bracketedHost: String { host.contains(":") ? "[\(host)]" : host }
}

/// An upstream's answer: its head, and its body as it arrives.
public struct UpstreamResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: UpstreamBody
}

/// The body of an upstream's answer, in the pieces it arrives in. Reading it to the end
/// lets its connection serve another call; dropping it half-read closes the connection.
public struct UpstreamBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let stream: AsyncThrowingStream<ByteBuffer, any Error>

    public func makeAsyncIterator() -> AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// The whole body, refused when it grows past `limit` bytes.
    public func collect(upTo limit: Int) async throws -> ByteBuffer {
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

    func send(_ head: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline, stallTimeout: TimeAmount) async throws -> UpstreamResponse {
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let exchange = UpstreamExchangeHandler.Exchange(
            request: head, body: body, deadline: deadline, stallTimeout: stallTimeout,
            endpoint: pool.configuration.origin.endpoint,
            head: channel.eventLoop.makePromise(), body: continuation,
            done: { [pool] keepAlive in
                if keepAlive { pool.release(self) } else { self.close() }
            }
        )
        let handler = handler
        let eventLoop = channel.eventLoop
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                eventLoop.execute { handler.value.abandon(exchange) }
            }
        }
        eventLoop.execute { handler.value.start(exchange) }
        let responseHead = try await withTaskCancellationHandler {
            try await exchange.head.futureResult.get()
        } onCancel: {
            eventLoop.execute { handler.value.abandon(exchange) }
        }
        return UpstreamResponse(head: responseHead, body: UpstreamBody(stream: stream))
    }
}

/// Runs one exchange at a time on its connection: writes the request, hands on the
/// response's head and body, and watches the deadline of the head and the stalls of the body.
final class UpstreamExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// One request and where its answer goes. Touched only on the connection's event loop
    /// once started.
    final class Exchange: @unchecked Sendable {
        let request: HTTPRequestHead
        let body: ByteBuffer?
        let deadline: NIODeadline
        let stallTimeout: TimeAmount
        let endpoint: String
        let head: EventLoopPromise<HTTPResponseHead>
        let bodyPieces: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
        /// Called once the answer ended: `true` when the connection may serve another call.
        let done: @Sendable (Bool) -> Void
        var receivedHead = false
        var keepAlive = true
        var lastRead = NIODeadline.now()
        var timer: Scheduled<Void>?

        init(
            request: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline, stallTimeout: TimeAmount, endpoint: String,
            head: EventLoopPromise<HTTPResponseHead>, body continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation,
            done: @escaping @Sendable (Bool) -> Void
        ) {
            self.request = request
            self.body = body
            self.deadline = deadline
            self.stallTimeout = stallTimeout
            self.endpoint = endpoint
            self.head = head
            self.bodyPieces = continuation
            self.done = done
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
        guard let context, context.channel.isActive, current == nil else {
            let error = endedBy ?? ChannelError.ioOnClosedChannel
            exchange.head.fail(error)
            exchange.bodyPieces.finish(throwing: error)
            return
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
        guard current === exchange else { return }
        fail(CancellationError())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange = current else { return }
        exchange.lastRead = .now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx answers are not expected from an OpenAI-compatible API; NIO's decoder
            // hands over the final head.
            exchange.receivedHead = true
            exchange.keepAlive = head.isKeepAlive
            exchange.head.succeed(head)
        case .body(let piece):
            exchange.bodyPieces.yield(piece)
        case .end:
            current = nil
            exchange.timer?.cancel()
            // Back in the pool before the reader hears of the end, so that its next call
            // finds this connection idle.
            exchange.done(exchange.keepAlive)
            exchange.bodyPieces.finish()
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
        if !exchange.receivedHead { exchange.head.fail(error) }
        exchange.bodyPieces.finish(throwing: error)
        context?.close(promise: nil)
    }

    /// Checks the exchange at its next deadline: the head's while it has not come, then a
    /// stall of the body after the last read.
    private func armTimer(_ exchange: Exchange) {
        guard let context else { return }
        let due = exchange.receivedHead ? exchange.lastRead + exchange.stallTimeout : min(exchange.deadline, exchange.lastRead + exchange.stallTimeout)
        exchange.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) { [self] in
            guard current === exchange else { return }
            let now = NIODeadline.now()
            if !exchange.receivedHead, now >= exchange.deadline {
                fail(UpstreamError(.timedOut, message: "timed out waiting for an answer from \(exchange.endpoint)"))
            } else if now >= exchange.lastRead + exchange.stallTimeout {
                fail(UpstreamError(.timedOut, message: "timed out waiting for data from \(exchange.endpoint)"))
            } else {
                armTimer(exchange)
            }
        }
    }
}
