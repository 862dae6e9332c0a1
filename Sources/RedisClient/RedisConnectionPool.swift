import Logging
import NIOCore
import NIOPosix
import Synchronization
import Timing

/// A fixed number of pipelined connections to one Redis, opened when first needed and
/// reopened after a failure, with backoff.
///
/// Commands are spread over the connections in turn, and any number may be in flight on
/// each. The connections are spread over the group's event loops; a caller running on one
/// of them takes its turns among that loop's connections, and never changes threads.
///
/// While Redis is out of reach and a connection waits out its backoff, commands sent to it
/// fail at once with an error whose ``RedisClientError/isUnavailable`` is true, so callers
/// can answer "try again later" without piling up.
package final class RedisConnectionPool: Sendable {
    package let configuration: RedisConfiguration
    private let logger: Logger
    private let slots: [ConnectionSlot]
    private let nextSlot = Atomic<Int>(0)
    private let scriptHashes = Mutex<[String: String]>([:])

    private enum Slot {
        case idle(failures: Int)
        case connecting([CheckedContinuation<RedisConnection, any Error>], failures: Int)
        case connected(RedisConnection)
        case backingOff(until: ContinuousClock.Instant, RedisClientError, failures: Int)
        case shutDown
    }

    /// One connection's place in the pool.
    private final class ConnectionSlot: Sendable {
        let state = Mutex(Slot.idle(failures: 0))
        /// The loop its connection lives on.
        let eventLoop: any EventLoop

        init(eventLoop: any EventLoop) {
            self.eventLoop = eventLoop
        }
    }

    /// For each of the group's loops, the slots whose connection lives on it.
    private let slotsByLoop: [ObjectIdentifier: [ConnectionSlot]]

    package init(
        _ configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        // The connections spread over the loops, so that a caller running on one of them
        // (a request handler, a worker) can use a connection of its own thread.
        let loops = Array(eventLoopGroup.makeIterator())
        slots = (0..<max(1, configuration.connectionCount)).map { ConnectionSlot(eventLoop: loops[$0 % loops.count]) }
        slotsByLoop = Dictionary(grouping: slots) { ObjectIdentifier($0.eventLoop) }
    }

    /// Sends one command on the next connection and waits for its reply.
    package func send<Command: RedisCommand>(_ command: Command) async throws(RedisClientError) -> Command.Response {
        try await connection().send(command)
    }

    /// Sends several commands in one write on one connection (a pipeline), and answers each
    /// one's outcome in order.
    package func execute<each Command: RedisCommand>(
        _ commands: repeat each Command
    ) async throws(RedisClientError) -> (repeat Result<(each Command).Response, RedisClientError>) {
        try await connection().execute(repeat each commands)
    }

    /// Runs a script with `EVALSHA`, loading it first when this pool has not yet, and again
    /// when Redis has lost it (`NOSCRIPT`).
    package func run(_ script: RedisScript, keys: [String] = [], arguments: [RedisScript.Argument]) async throws(RedisClientError) -> RESPValue {
        let connection = try await connection()
        var sha = scriptHashes.withLock { $0[script.source] }
        if sha == nil { sha = try await load(script, on: connection) }
        do {
            return try await connection.send(EVALSHA(sha: sha!, keys: keys, arguments: arguments))
        } catch let error where error.serverErrorPrefix == "NOSCRIPT" {
            logger.info("Redis lost a script (restarted?); loading it again", metadata: ["script": "\(script.name)"])
            let sha = try await load(script, on: connection)
            return try await connection.send(EVALSHA(sha: sha, keys: keys, arguments: arguments))
        }
    }

    private func load(_ script: RedisScript, on connection: RedisConnection) async throws(RedisClientError) -> String {
        let sha = try await connection.send(SCRIPTLOAD(script.source))
        scriptHashes.withLock { $0[script.source] = sha }
        return sha
    }

    /// Closes every connection; later commands fail.
    package func shutdown() async {
        for slot in slots {
            let (connection, waiters) = slot.state.withLock { slot -> (RedisConnection?, [CheckedContinuation<RedisConnection, any Error>]) in
                defer { slot = .shutDown }
                switch slot {
                case .connected(let connection): return (connection, [])
                case .connecting(let waiters, _): return (nil, waiters)
                case .idle, .backingOff, .shutDown: return (nil, [])
                }
            }
            // Whoever waits for a connection being opened would otherwise wait forever: the
            // opener finds the slot shut down and resumes no one.
            for waiter in waiters { waiter.resume(throwing: RedisClientError(.shutdown, "the Redis client was shut down")) }
            await connection?.close()
        }
    }

    // MARK: - Connections

    /// An open connection: the next slot's, opened (or reopened) if need be.
    func connection() async throws(RedisClientError) -> RedisConnection {
        let turn = nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue
        let mine = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { slotsByLoop[ObjectIdentifier($0)] } ?? slots
        do {
            return try await connection(in: mine[turn % mine.count])
        } catch let error as RedisClientError {
            throw error
        } catch {
            throw RedisClientError(.connectionFailed, "\(error)", underlying: error)
        }
    }

    private enum Next {
        case use(RedisConnection)
        case connect(failures: Int)
        case wait
        case fail(RedisClientError)
    }

    private func connection(in slot: ConnectionSlot) async throws -> RedisConnection {
        let now = ContinuousClock.now
        let next: Next = slot.state.withLock { state in
            switch state {
            case .connected(let connection) where connection.isActive:
                return .use(connection)
            case .connected:
                state = .connecting([], failures: 0)
                return .connect(failures: 0)
            case .idle(let failures):
                state = .connecting([], failures: failures)
                return .connect(failures: failures)
            case .backingOff(let until, let error, let failures):
                if now < until { return .fail(error) }
                state = .connecting([], failures: failures)
                return .connect(failures: failures)
            case .connecting:
                return .wait
            case .shutDown:
                return .fail(RedisClientError(.shutdown, "the Redis client was shut down"))
            }
        }
        switch next {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .wait:
            return try await withCheckedThrowingContinuation { continuation in
                let resumeNow: Result<RedisConnection, any Error>? = slot.state.withLock { state in
                    switch state {
                    case .connecting(var waiters, let failures):
                        waiters.append(continuation)
                        state = .connecting(waiters, failures: failures)
                        return nil
                    case .connected(let connection): return .success(connection)
                    case .backingOff(_, let error, _): return .failure(error)
                    case .idle, .shutDown: return .failure(RedisClientError(.connectionClosed, "the connection to Redis closed"))
                    }
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        case .connect(let failures):
            return try await open(slot, failures: failures)
        }
    }

    private func open(_ slot: ConnectionSlot, failures: Int) async throws -> RedisConnection {
        let result: Result<RedisConnection, RedisClientError>
        do {
            result = .success(try await RedisConnection.connect(configuration, eventLoopGroup: slot.eventLoop))
        } catch {
            result = .failure(error)
        }
        let (waiters, connectionToClose): ([CheckedContinuation<RedisConnection, any Error>], RedisConnection?) = slot.state.withLock { state in
            guard case .connecting(let waiters, _) = state else {
                // Shut down meanwhile.
                return ([], try? result.get())
            }
            switch result {
            case .success(let connection):
                state = .connected(connection)
            case .failure(let error):
                let delay = configuration.reconnectBackoff.delay(afterFailure: failures + 1)
                state = .backingOff(until: .now + delay, error, failures: failures + 1)
            }
            return (waiters, nil)
        }
        if let connectionToClose {
            await connectionToClose.close()
            throw RedisClientError(.shutdown, "the Redis client was shut down")
        }
        switch result {
        case .success(let connection):
            if failures > 0 {
                logger.notice("reconnected to Redis", metadata: ["redis": "\(configuration)"])
                // Redis is back: the other connections need not wait out their backoff.
                for other in slots where other !== slot {
                    other.state.withLock { state in
                        if case .backingOff = state { state = .idle(failures: 0) }
                    }
                }
            }
            for waiter in waiters { waiter.resume(returning: connection) }
            return connection
        case .failure(let error):
            if failures == 0 {
                logger.warning("cannot reach Redis", metadata: ["redis": "\(configuration)", "error": "\(error.message)"])
            }
            for waiter in waiters { waiter.resume(throwing: error) }
            throw error
        }
    }
}
