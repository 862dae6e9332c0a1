import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One connection to Redis, on which any number of commands may be in flight at once
/// (pipelining): each waits for its own reply, in order.
package final class RedisConnection: Sendable {
    let channel: any Channel
    /// 3 after a successful `HELLO 3`, 2 for a server that only speaks RESP2.
    package let protocolVersion: Int
    private let commandTimeout: Duration

    private init(channel: any Channel, protocolVersion: Int, commandTimeout: Duration) {
        self.channel = channel
        self.protocolVersion = protocolVersion
        self.commandTimeout = commandTimeout
    }

    /// Opens a connection and shakes hands: `HELLO 3` with `AUTH` (falling back to RESP2 and
    /// `AUTH` on a server without `HELLO`), then `SELECT`. `onPush` gets the messages Redis
    /// sends on its own (pub/sub), on the connection's event loop.
    package static func connect(
        _ configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onPush: @escaping @Sendable (RESPValue) -> Void = { _ in }
    ) async throws(RedisClientError) -> RedisConnection {
        let channel: any Channel
        do {
            let sslContext = configuration.tls ? try NIOSSLContext(configuration: tlsConfiguration(configuration)) : nil
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            // SNI takes a name, not an address; with an address the certificate is
                            // checked against the IP address connected to.
                            let name = Self.isIPAddress(configuration.host) ? nil : configuration.host
                            let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: name)
                            try channel.pipeline.syncOperations.addHandler(tls)
                        }
                        try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(onPush: onPush))
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            throw RedisClientError(
                .connectionFailed, "cannot connect to Redis at \(configuration.host):\(configuration.port): \(Self.reason(error))", underlying: error
            )
        }
        do {
            return try await handshake(channel, configuration)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    private static func handshake(_ channel: any Channel, _ configuration: RedisConfiguration) async throws(RedisClientError) -> RedisConnection {
        let timeout = min(configuration.connectTimeout, configuration.commandTimeout)
        var connection = RedisConnection(channel: channel, protocolVersion: 3, commandTimeout: timeout)
        let hello = HELLO(
            protocolVersion: 3, username: configuration.username, password: configuration.password,
            clientName: configuration.clientName
        )
        do {
            _ = try await connection.send(hello)
        } catch let error where error.serverErrorPrefix == "NOPROTO" || error.message.lowercased().contains("unknown command") {
            connection = RedisConnection(channel: channel, protocolVersion: 2, commandTimeout: timeout)
            if let password = configuration.password {
                _ = try await connection.send(AUTH(username: configuration.username, password: password))
            }
        } catch let error where error.code == .server {
            // WRONGPASS, NOAUTH …: Redis's own words, which never repeat the password.
            throw RedisClientError(.connectionFailed, "Redis refused the handshake: \(error.message)", underlying: error)
        }
        if configuration.database != 0 {
            _ = try await connection.send(SELECT(configuration.database))
        }
        return RedisConnection(channel: channel, protocolVersion: connection.protocolVersion, commandTimeout: configuration.commandTimeout)
    }

    private static func tlsConfiguration(_ configuration: RedisConfiguration) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = configuration.tlsCAFile { tls.trustRoots = .file(file) }
        return tls
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    /// A short reason for a failed connect: the system's words when there are some.
    private static func reason(_ error: any Error) -> String {
        let io = (error as? NIOConnectionError)?.connectionErrors.first?.error as? IOError ?? error as? IOError
        if let io { return String(cString: strerror(io.errnoCode)).lowercased() }
        return "\(error)"
    }

    /// Whether the connection is still open.
    package var isActive: Bool { channel.isActive }

    /// Sends one command and waits for its reply.
    package func send<Command: RedisCommand>(_ command: Command) async throws(RedisClientError) -> Command.Response {
        var encoder = RESPCommandEncoder(allocator: channel.allocator)
        command.encode(into: &encoder)
        let reply = try await write(encoder)[0].get()
        return try Self.decode(reply, as: Command.Response.self)
    }

    /// Sends several commands in one write and answers each one's outcome, in order.
    package func execute<each Command: RedisCommand>(
        _ commands: repeat each Command
    ) async -> (repeat Result<(each Command).Response, RedisClientError>) {
        var encoder = RESPCommandEncoder(allocator: channel.allocator)
        for command in repeat each commands { command.encode(into: &encoder) }
        var replies = (try? await write(encoder)) ?? []
        if replies.isEmpty {
            // The write failed as a whole; `write` never answers fewer results otherwise.
            let error = RedisClientError(.connectionClosed, "the connection to Redis was closed")
            replies = Array(repeating: .failure(error), count: encoder.commandCount)
        }
        var index = 0
        func next<Response: RESPDecodable>(_: Response.Type) -> Result<Response, RedisClientError> {
            defer { index += 1 }
            return Result { () throws(RedisClientError) in try Self.decode(replies[index].get(), as: Response.self) }
        }
        return (repeat next((each Command).Response.self))
    }

    /// Sends the commands already in `encoder`, and answers each one's reply.
    func write(_ encoder: RESPCommandEncoder) async throws(RedisClientError) -> [Result<RESPValue, RedisClientError>] {
        let loop = channel.eventLoop
        let promises = (0..<encoder.commandCount).map { _ in loop.makePromise(of: RESPValue.self) }
        let deadline = NIODeadline.now() + TimeAmount(commandTimeout)
        let request = RedisChannelHandler.Request(bytes: encoder.buffer, promises: promises, deadline: deadline)
        channel.writeAndFlush(request).whenFailure { error in
            // A write that never reached the handler (the channel had closed and its handlers
            // were removed) would leave its replies waiting forever. Failing a promise already
            // completed does nothing.
            let failure = RedisClientError(.connectionClosed, "the connection to Redis was closed", underlying: error)
            for promise in promises { promise.fail(failure) }
        }
        var results: [Result<RESPValue, RedisClientError>] = []
        results.reserveCapacity(promises.count)
        for promise in promises {
            do {
                results.append(.success(try await promise.futureResult.get()))
            } catch let error as RedisClientError {
                results.append(.failure(error))
            } catch {
                results.append(.failure(RedisClientError(.connectionClosed, "\(error)", underlying: error)))
            }
        }
        return results
    }

    /// Writes commands whose replies come as push messages (`SUBSCRIBE`).
    func writeExpectingPushReplies(_ encoder: RESPCommandEncoder) {
        let request = RedisChannelHandler.Request(bytes: encoder.buffer, promises: [], deadline: .distantFuture)
        channel.writeAndFlush(request, promise: nil)
    }

    static func decode<Response: RESPDecodable>(_ reply: RESPValue, as: Response.Type) throws(RedisClientError) -> Response {
        if case .error(let message) = reply { throw RedisClientError(.server, message) }
        return try Response(fromRESP: reply)
    }

    /// Closes the connection; commands still waiting fail.
    package func close() async {
        try? await channel.close()
    }

    /// Completes when the connection has closed.
    package func closed() async {
        try? await channel.closeFuture.get()
    }
}
