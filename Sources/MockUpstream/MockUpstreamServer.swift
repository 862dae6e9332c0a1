import Dispatch
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An OpenAI-compatible chat-completions simulator: it answers `"echo: "` and the last user message,
/// plain or streamed, with settable latency and injected faults, and counts every call.
///
/// Routes: `POST /v1/chat/completions`, `GET /v1/models`, and for tests `GET /mock/calls?prompt=…`,
/// `GET /mock/stats`, `POST /mock/reset`.
///
/// ```swift
/// var configuration = MockUpstreamConfiguration()
/// configuration.port = 0
/// let mock = try await MockUpstreamServer.start(configuration)
/// // … talk to http://127.0.0.1:\(mock.port)/v1 …
/// try await mock.shutdown()
/// ```
package final class MockUpstreamServer: Sendable {
    /// The configuration the server was started with.
    package let configuration: MockUpstreamConfiguration
    /// The bound port (the one picked when the configuration asked for port 0).
    package let port: Int

    private let state: MockUpstreamState
    private let serverChannel: any Channel
    private let connections: ConnectionRegistry
    private let logger: Logger

    private init(
        configuration: MockUpstreamConfiguration, port: Int, state: MockUpstreamState, serverChannel: any Channel,
        connections: ConnectionRegistry, logger: Logger
    ) {
        self.configuration = configuration
        self.port = port
        self.state = state
        self.serverChannel = serverChannel
        self.connections = connections
        self.logger = logger
    }

    /// Binds the listening socket and starts answering; returns once bound.
    /// - Throws: ``MockUpstreamError`` when the configuration is invalid or the address cannot be bound.
    package static func start(
        _ configuration: MockUpstreamConfiguration,
        logger: Logger = Logger(label: "promptline.mock-upstream")
    ) async throws -> MockUpstreamServer {
        let problems = configuration.problems
        guard problems.isEmpty else { throw MockUpstreamError.invalidConfiguration(problems) }

        let state = MockUpstreamState(configuration: configuration)
        let modelsBody = MockWire.modelsBody(created: Int(Date().timeIntervalSince1970))
        let registry = ConnectionRegistry()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                registry.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    // The mock writes only headers of its own, so outbound header validation is skipped.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: true, withOutboundHeaderValidation: false
                    )
                    try channel.pipeline.syncOperations.addHandler(
                        MockUpstreamHandler(state: state, modelsBody: modelsBody, logger: logger)
                    )
                }
            }

        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw MockUpstreamError.bindFailed(host: configuration.host, port: configuration.port, underlying: error)
        }
        let port = channel.localAddress?.port ?? configuration.port
        logger.debug(
            "mock-upstream listening",
            metadata: ["host": "\(configuration.host)", "port": "\(port)"]
        )
        return MockUpstreamServer(
            configuration: configuration, port: port, state: state, serverChannel: channel,
            connections: registry, logger: logger
        )
    }

    /// The number of chat-completion calls received whose last user message is exactly `prompt`.
    package func calls(forPrompt prompt: String) -> Int {
        state.entry(forPrompt: prompt).count
    }

    /// The number of chat-completion calls received, readable or not.
    package var totalCalls: Int {
        state.totalCalls
    }

    /// Forgets every call counted so far (as `POST /mock/reset` does).
    package func resetCounts() {
        state.reset()
    }

    /// The connections accepted since the start, open or closed.
    package var connectionsAccepted: Int {
        connections.accepted.load(ordering: .relaxed)
    }

    /// Closes every open connection, as an upstream's keep-alive timeout does; keeps listening.
    package func closeConnections() async {
        let open = connections.channels.withLock { Array($0.values) }
        for connection in open {
            try? await connection.close()
        }
    }

    /// Stops listening and closes every open connection. Calling it again does nothing.
    package func shutdown() async throws {
        do {
            try await serverChannel.close()
        } catch ChannelError.alreadyClosed {
            // Already shut down.
        }
        let open = connections.channels.withLock { Array($0.values) }
        for connection in open {
            connection.close(promise: nil)
        }
        logger.debug("mock-upstream stopped", metadata: ["port": "\(port)"])
    }

    /// Serves until the calling task is cancelled or the process gets SIGINT or SIGTERM, then shuts down.
    ///
    /// Meant for the command line: while it runs, SIGINT and SIGTERM are caught instead of ending the process.
    package func run() async throws {
        let signals = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [serverChannel] in
                serverChannel.close(promise: nil)
            }
            source.resume()
            return source
        }
        defer {
            for source in signals { source.cancel() }
            for number in [SIGINT, SIGTERM] { signal(number, SIG_DFL) }
        }
        await withTaskCancellationHandler {
            try? await serverChannel.closeFuture.get()
        } onCancel: {
            serverChannel.close(promise: nil)
        }
        try await shutdown()
    }
}

/// The open connections of one server, so that shutdown can close them.
final class ConnectionRegistry: Sendable {
    let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    let accepted = Atomic(0)

    func add(_ channel: any Channel) {
        accepted.add(1, ordering: .relaxed)
        let key = ObjectIdentifier(channel)
        channels.withLock { $0[key] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = channels.withLock { $0.removeValue(forKey: key) }
        }
    }
}
