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
                        let handler = UpstreamExchangeHandler(endpoint: origin.endpoint)
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
