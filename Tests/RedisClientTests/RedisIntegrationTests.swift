import EventLoopExecutor
import Foundation
import Logging
import NIOCore
import NIOPosix
import RedisClient
import Testing

/// The client against a real `redis-server`: a shared one (see ``SharedRedis``) for what
/// cannot disturb other tests, private ones for passwords, restarts, `SCRIPT FLUSH` and
/// `DEBUG SLEEP`. Every test uses keys of its own, so they run in parallel.
@Suite(.sharedRedis, .timeLimit(.minutes(1)))
struct RedisIntegrationTests {
    let prefix = "redisclient-test:\(UUID().uuidString.lowercased()):"
    let logger = {
        var logger = Logger(label: "redis-client-tests")
        logger.logLevel = .error
        return logger
    }()

    func key(_ name: String) -> String { prefix + name }

    func pool(_ configuration: RedisConfiguration) -> RedisConnectionPool {
        RedisConnectionPool(configuration, logger: logger)
    }

    /// Runs `body` with a pool on the shared Redis, and shuts it down after.
    func withSharedPool<Result: Sendable>(
        connections: Int = 2, _ body: (RedisConnectionPool) async throws -> Result
    ) async throws -> Result {
        var configuration = try SharedRedis.configuration()
        configuration.connectionCount = connections
        return try await withPool(configuration, body)
    }

    func withPool<Result: Sendable>(
        _ configuration: RedisConfiguration, _ body: (RedisConnectionPool) async throws -> Result
    ) async throws -> Result {
        let pool = pool(configuration)
        do {
            let result = try await body(pool)
            await pool.shutdown()
            return result
        } catch {
            await pool.shutdown()
            throw error
        }
    }

    /// Runs `body` with a private server, and stops it after.
    func withServer<Result: Sendable>(
        password: String? = nil, arguments: [String] = [], _ body: (RedisTestServer) async throws -> Result
    ) async throws -> Result {
        let server = try await RedisTestServer.start(password: password, arguments: arguments)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// What `body` throws, or `nil` if it does not.
    func failure(_ body: () async throws -> Void) async -> RedisClientError? {
        do {
            try await body()
            return nil
        } catch let error as RedisClientError {
            return error
        } catch {
            Issue.record("not a RedisClientError: \(error)")
            return nil
        }
    }

    // MARK: - Connections

    @Test func theHandshakeSpeaksRESP3() async throws {
        var configuration = try SharedRedis.configuration()
        configuration.clientName = "redisclient-test-\(UUID().uuidString.prefix(8))"
        let connection = try await RedisConnection.connect(configuration)
        #expect(connection.protocolVersion == 3)
        #expect(connection.isActive)
        #expect(try await connection.send(RawCommand("CLIENT", "GETNAME")).string == configuration.clientName)
        // RESP3 types come through: HELLO answers a map.
        let hello = try await connection.send(RawCommand("HELLO", "3"))
        guard case .map(let pairs) = hello else {
            Issue.record("HELLO answered \(hello)")
            return
        }
        #expect(pairs.first { $0.key.string == "proto" }?.value == .integer(3))
        await connection.close()
        #expect(!connection.isActive)
    }

    @Test func ping() async throws {
        try await withSharedPool { pool async throws in
            #expect(try await pool.send(PING()) == "PONG")
        }
    }

    @Test func setAndGetBinaryValues() async throws {
        try await withSharedPool { pool in
            let everyByte = buffer((0...255).map { UInt8($0) } + Array("\r\n$-1\r\n*0\r\n".utf8) + [0, 0x0D, 0x0A])
            _ = try await pool.send(SET(key("binary"), everyByte))
            #expect(try await pool.send(GET(key("binary"))) == everyByte)

            _ = try await pool.send(SET(key("empty"), ByteBuffer()))
            #expect(try await pool.send(GET(key("empty"))) == ByteBuffer())

            let unicode = "héllo, wörld 🙂"
            _ = try await pool.send(SET(key("unicode"), unicode))
            #expect(try await pool.send(GET(key("unicode"))).map { String(buffer: $0) } == unicode)

            var generator = SplitMix64(seed: 7)
            let large = buffer((0..<2_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
            _ = try await pool.send(SET(key("large"), large))
            #expect(try await pool.send(GET(key("large"))) == large)

            _ = try await pool.send(DEL(key("binary"), key("empty"), key("unicode"), key("large")))
        }
    }

    @Test func getOfAMissingKeyIsNil() async throws {
        try await withSharedPool { pool async throws in
            #expect(try await pool.send(GET(key("missing"))) == nil)
        }
    }

    @Test func expiry() async throws {
        try await withSharedPool { pool in
            _ = try await pool.send(SET(key("expiring"), "v", expiry: .seconds(100)))
            let ttl = try await pool.send(RawCommand("PTTL", key("expiring")))
            #expect((1...100_000).contains(ttl.int64 ?? 0))
            #expect(try await pool.send(PEXPIRE(key("expiring"), .seconds(50))))
            #expect(try await !pool.send(PEXPIRE(key("never-set"), .seconds(50))))
            _ = try await pool.send(DEL(key("expiring")))
        }
    }

    @Test func pipelinedCommandsEachGetTheirOwnResult() async throws {
        try await withSharedPool { pool in
            let (set, get, increment, notANumber, wrongType, missing) = try await pool.execute(
                SET(key("text"), "value"),
                GET(key("text")),
                RawCommand("INCR", key("counter")),
                RawCommand("INCR", key("text")),
                RawCommand("LPUSH", key("text"), "x"),
                GET(key("missing"))
            )
            #expect(throws: Never.self) { try set.get() }
            #expect(try get.get().map { String(buffer: $0) } == "value")
            #expect(try increment.get() == .integer(1))
            #expect(throws: RedisClientError.self) { try notANumber.get() }
            if case .failure(let error) = notANumber {
                #expect(error.code == .server)
                #expect(error.serverErrorPrefix == "ERR")
                #expect(!error.isUnavailable)
            }
            if case .failure(let error) = wrongType {
                #expect(error.serverErrorPrefix == "WRONGTYPE")
            } else {
                Issue.record("LPUSH on a string succeeded: \(wrongType)")
            }
            #expect(try missing.get() == nil)
            // The connection is still fine after the errors.
            #expect(try await pool.send(GET(key("counter"))).map { String(buffer: $0) } == "1")
            _ = try await pool.send(DEL(key("text"), key("counter")))
        }
    }

    @Test func aPipelineOnOneConnection() async throws {
        let connection = try await RedisConnection.connect(SharedRedis.configuration())
        let (first, second, third) = await connection.execute(
            RawCommand("RPUSH", key("list"), "a", "b", "c"),
            RawCommand("LRANGE", key("list"), "0", "-1"),
            DEL(key("list"))
        )
        #expect(try first.get() == .integer(3))
        #expect(try second.get() == .array([bulk("a"), bulk("b"), bulk("c")]))
        #expect(try third.get() == 1)
        await connection.close()
    }

    @Test func aReplyOfTheWrongTypeIsUnexpectedResponse() async throws {
        try await withSharedPool { pool in
            _ = try await pool.send(RawCommand("RPUSH", key("list"), "a"))
            // A command whose declared reply type does not fit what Redis answers.
            struct LRANGEAsInt: RedisCommand {
                typealias Response = Int
                var key: String
                func encode(into encoder: inout RESPCommandEncoder) {
                    encoder.start("LRANGE")
                    encoder.append(key)
                    encoder.append("0")
                    encoder.append("-1")
                    encoder.finish()
                }
            }
            let error = await failure { _ = try await pool.send(LRANGEAsInt(key: key("list"))) }
            #expect(error?.code == .unexpectedResponse)
            #expect(try await pool.send(PING()) == "PONG")
            _ = try await pool.send(DEL(key("list")))
        }
    }

    @Test func aThousandConcurrentCommandsOnTwoConnections() async throws {
        try await withSharedPool(connections: 2) { pool in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<1_000 {
                    group.addTask {
                        let echoed = try await pool.send(RawCommand("ECHO", "message-\(index)"))
                        #expect(echoed == bulk("message-\(index)"))
                        let count = try await pool.send(RawCommand("INCR", key("counter")))
                        #expect((1...1_000).contains(count.int64 ?? 0))
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await pool.send(GET(key("counter"))).map { String(buffer: $0) } == "1000")
            let clients = try await pool.send(RawCommand("CLIENT", "LIST")).string ?? ""
            #expect(!clients.isEmpty)
            _ = try await pool.send(DEL(key("counter")))
        }
    }

    /// A caller running on an event loop (a request handler, a worker) takes its turns
    /// among that loop's connections, and its replies come back on its own thread.
    @Test func aCallerOnAnEventLoopUsesThatLoopsConnections() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var configuration = try SharedRedis.configuration()
        configuration.connectionCount = 4
        let pool = RedisConnectionPool(configuration, eventLoopGroup: group, logger: logger)
        var seen: [Set<Int64>] = []
        for loop in group.makeIterator() {
            seen.append(try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
                var ids: Set<Int64> = []
                var stayed = true
                for _ in 0..<8 {
                    ids.insert(try #require(try await pool.send(RawCommand("CLIENT", "ID")).int64))
                    stayed = stayed && loop.inEventLoop
                }
                #expect(stayed)
                return ids
            })
        }
        #expect(seen.map(\.count) == [2, 2])
        #expect(seen[0].isDisjoint(with: seen[1]))
        await pool.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func aClosedConnectionFailsCommandsInsteadOfHanging() async throws {
        let connection = try await RedisConnection.connect(SharedRedis.configuration())
        await connection.close()
        await connection.closed()
        let error = await failure { _ = try await connection.send(PING()) }
        #expect(error?.code == .connectionClosed)
        #expect(error?.isUnavailable == true)
        let (result, _) = await connection.execute(PING(), PING())
        #expect(throws: RedisClientError.self) { try result.get() }
    }

    @Test func aPoolThatWasShutDownFailsCommands() async throws {
        let pool = try pool(SharedRedis.configuration())
        #expect(try await pool.send(PING()) == "PONG")
        await pool.shutdown()
        let error = await failure { _ = try await pool.send(PING()) }
        #expect(error?.code == .shutdown)
        #expect(error?.isUnavailable == true)
    }

    @Test func shuttingDownWhileConnectingFailsEveryoneWaiting() async throws {
        // A server that accepts the connection and never answers the handshake.
        let listener = try SilentListener()
        defer { listener.close() }
        let pool = pool(RedisConfiguration(port: listener.port, connectTimeout: .seconds(1), connectionCount: 1))
        async let first = failure { _ = try await pool.send(PING()) }
        async let second = failure { _ = try await pool.send(PING()) }
        try await Task.sleep(for: .milliseconds(200))
        await pool.shutdown()
        let errors = await [first, second]
        #expect(errors.allSatisfy { $0?.isUnavailable == true }, "\(errors)")
    }

    @Test func anUnreachableRedisIsUnavailable() async throws {
        let port = try freeLoopbackPort()
        var configuration = RedisConfiguration(port: port, password: "hunter2secret", connectionCount: 1)
        configuration.reconnectBaseDelay = .seconds(30)
        configuration.reconnectMaxDelay = .seconds(30)
        do {
            _ = try await RedisConnection.connect(configuration)
            Issue.record("connected to a closed port")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(error.isUnavailable)
            #expect(!"\(error)".contains("hunter2"))
        }
        let pool = pool(configuration)
        let first = await failure { _ = try await pool.send(PING()) }
        #expect(first?.code == .connectionFailed)
        // While the pool backs off, commands fail at once with the same error.
        let second = await failure { _ = try await pool.send(PING()) }
        #expect(second?.code == .connectionFailed)
        #expect(second?.isUnavailable == true)
        await pool.shutdown()
    }

    // MARK: - Databases and passwords

    @Test func theDatabaseInTheURLIsSelected() async throws {
        let sharedURL = try SharedRedis.url()
        var components = try #require(URLComponents(string: sharedURL))
        components.path = "/3"
        let database3 = try RedisConfiguration(url: try #require(components.string))
        #expect(database3.database == 3)
        components.path = "/0"
        let database0 = try RedisConfiguration(url: try #require(components.string))
        try await withPool(database3) { pool3 in
            try await withPool(database0) { pool0 in
                _ = try await pool3.send(SET(key("in-3"), "three"))
                #expect(try await pool3.send(GET(key("in-3"))).map { String(buffer: $0) } == "three")
                #expect(try await pool0.send(GET(key("in-3"))) == nil)
                let info = try await pool3.send(RawCommand("CLIENT", "INFO")).string ?? ""
                #expect(info.contains(" db=3 "))
                _ = try await pool3.send(DEL(key("in-3")))
            }
        }
    }

    @Test func passwords() async throws {
        let password = "p@ss:w/rd-\(UUID().uuidString)"
        try await withServer(password: password) { server in
            // The right password, percent-encoded in a URL, with and without a user name.
            let right = try RedisConfiguration(url: server.url)
            #expect(right.password == password)
            try await withPool(right) { pool async throws in
                #expect(try await pool.send(PING()) == "PONG")
            }
            var withUser = right
            withUser.username = "default"
            let connection = try await RedisConnection.connect(withUser)
            #expect(connection.protocolVersion == 3)
            #expect(try await connection.send(PING()) == "PONG")
            await connection.close()

            // A wrong password, and none.
            let wrongPassword = "wrong-\(UUID().uuidString)"
            for configuration in [RedisConfiguration(port: server.port, password: wrongPassword), RedisConfiguration(port: server.port)] {
                do {
                    let connection = try await RedisConnection.connect(configuration)
                    await connection.close()
                    Issue.record("connected with \(configuration)")
                } catch let error as RedisClientError {
                    #expect(error.code == .connectionFailed)
                    #expect(error.isUnavailable)
                    for shown in [error.message, "\(error)", String(reflecting: error)] {
                        #expect(!shown.contains(wrongPassword))
                        #expect(!shown.contains(password))
                    }
                }
            }

            // Through a pool, the same.
            try await withPool(RedisConfiguration(port: server.port, password: wrongPassword, connectionCount: 1)) { pool in
                let error = await failure { _ = try await pool.send(PING()) }
                #expect(error?.code == .connectionFailed)
                #expect(error.map { !"\($0)".contains(wrongPassword) } == true)
            }
        }
    }

    // MARK: - Scripts

    @Test func scriptsAreLoadedAgainAfterSCRIPTFLUSH() async throws {
        let script = RedisScript(name: "add", source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
        try await withServer { server in
            try await withPool(server.configuration) { pool in
                #expect(try await pool.run(script, keys: [key("sum")], arguments: [5]) == .integer(5))
                #expect(try await pool.run(script, keys: [key("sum")], arguments: ["2"]) == .integer(7))
                _ = try await pool.send(RawCommand("SCRIPT", "FLUSH"))
                #expect(try await pool.send(RawCommand("SCRIPT", "EXISTS", "0123")) == .array([.integer(0)]))
                #expect(try await pool.run(script, keys: [key("sum")], arguments: [3]) == .integer(10))
                #expect(try await pool.run(script, keys: [key("sum")], arguments: [.bytes(ByteBuffer(string: "1"))]) == .integer(11))
            }
        }
    }

    @Test func scriptArgumentsAndErrors() async throws {
        try await withSharedPool { pool in
            let echo = RedisScript(name: "echo", source: "return {KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]}")
            let reply = try await pool.run(echo, keys: [key("k")], arguments: ["text", 42, .double(1.5), .bytes(buffer([0, 13, 10, 255]))])
            #expect(reply == .array([bulk(key("k")), bulk("text"), bulk("42"), bulk("1.5"), .bulkString(buffer([0, 13, 10, 255]))]))

            let failing = RedisScript(name: "fails", source: "return redis.error_reply('MYERR it went wrong')")
            let error = await failure { _ = try await pool.run(failing, arguments: []) }
            #expect(error?.code == .server)
            #expect(error?.serverErrorPrefix == "MYERR")
            // The pool still works.
            #expect(try await pool.send(PING()) == "PONG")
        }
    }

    // MARK: - Pub/sub

    enum SubscriberEvent: Sendable, Equatable {
        case subscribed
        case message(channel: String, payload: String)
    }

    @Test func theSubscriberReceivesMessagesAndComesBack() async throws {
        var configuration = try SharedRedis.configuration()
        configuration.clientName = "redisclient-subscriber-\(UUID().uuidString.prefix(8))"
        configuration.reconnectBaseDelay = .milliseconds(20)
        configuration.reconnectMaxDelay = .milliseconds(200)
        let channels = [key("events"), key("other")]
        let subscriber = RedisSubscriber(configuration, channels: channels, logger: logger)
        let (events, sink) = AsyncStream.makeStream(of: SubscriberEvent.self)

        try await withSharedPool { pool in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await subscriber.run { message in
                        sink.yield(.message(channel: message.channel, payload: String(buffer: message.payload)))
                    } onReconnect: {
                        sink.yield(.subscribed)
                    }
                }
                var iterator = events.makeAsyncIterator()
                try await expectNext(&iterator, .subscribed)

                // Subscribed to every channel once `onReconnect` is called.
                #expect(try await pool.send(PUBLISH(channels[0], "one")) == 1)
                #expect(try await pool.send(PUBLISH(channels[1], "two")) == 1)
                #expect(try await pool.send(PUBLISH(key("not-subscribed"), "nobody")) == 0)
                try await expectNext(&iterator, .message(channel: channels[0], payload: "one"))
                try await expectNext(&iterator, .message(channel: channels[1], payload: "two"))

                // Kill its connection: it subscribes again, says so, and gets what comes next.
                let clients = try await pool.send(RawCommand("CLIENT", "LIST", "TYPE", "pubsub")).string ?? ""
                let line = try #require(clients.split(separator: "\n").first { $0.contains("name=\(configuration.clientName!)") })
                let id = try #require(line.split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3))
                #expect(try await pool.send(RawCommand("CLIENT", "KILL", "ID", String(id))) == .integer(1))
                try await expectNext(&iterator, .subscribed)
                #expect(try await pool.send(PUBLISH(channels[1], "three")) == 1)
                try await expectNext(&iterator, .message(channel: channels[1], payload: "three"))

                group.cancelAll()
                try await group.waitForAll()
            }
        }
        sink.finish()
    }

    func expectNext(
        _ iterator: inout AsyncStream<SubscriberEvent>.Iterator, _ expected: SubscriberEvent,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let event = try #require(await iterator.next(), sourceLocation: sourceLocation)
        #expect(event == expected, sourceLocation: sourceLocation)
    }

    // MARK: - Timeouts and restarts

    @Test func aCommandWithNoReplyInTimeFailsWithTimeout() async throws {
        try await withServer(arguments: ["--enable-debug-command", "yes"]) { server in
            var configuration = server.configuration
            configuration.commandTimeout = .milliseconds(300)
            configuration.connectionCount = 1
            let connection = try await Self.connect(configuration)
            let error = await failure { _ = try await connection.send(RawCommand("DEBUG", "SLEEP", "2")) }
            #expect(error?.code == .timeout)
            #expect(error?.isUnavailable == true)
            // The reply may still come, and would be taken for the next command's: the
            // connection is closed instead.
            await connection.closed()
            #expect(!connection.isActive)

            // Through a pool: once the server answers again, the pool opens a new connection.
            try await withPool(configuration) { pool in
                try await Self.eventually { try await pool.send(PING()) == "PONG" }
                let error = await failure { _ = try await pool.send(RawCommand("DEBUG", "SLEEP", "2")) }
                #expect(error?.code == .timeout)
                try await Self.eventually { try await pool.send(PING()) == "PONG" }
            }
        }
    }

    @Test func thePoolComesBackAfterRedisRestarts() async throws {
        try await withServer { server in
            var configuration = server.configuration
            configuration.connectionCount = 2
            configuration.reconnectBaseDelay = .milliseconds(20)
            configuration.reconnectMaxDelay = .milliseconds(200)
            try await withPool(configuration) { pool in
                for _ in 0..<4 { #expect(try await pool.send(PING()) == "PONG") }

                await server.kill()
                for _ in 0..<10 {
                    let error = await failure { _ = try await pool.send(PING()) }
                    #expect(error?.isUnavailable == true, "\(String(describing: error))")
                    #expect([.connectionClosed, .connectionFailed].contains(error?.code), "\(String(describing: error))")
                }

                try await server.restart()
                try await Self.eventually { try await pool.send(PING()) == "PONG" }
                // Both connections are back.
                try await Self.eventually {
                    for _ in 0..<4 { _ = try await pool.send(PING()) }
                    return true
                }
                _ = try await pool.send(SET(key("after"), "restart"))
                #expect(try await pool.send(GET(key("after"))).map { String(buffer: $0) } == "restart")
            }
        }
    }

    /// Connects, retrying a few times: a handshake under a short command timeout may miss it
    /// on a loaded machine.
    static func connect(_ configuration: RedisConfiguration) async throws -> RedisConnection {
        for _ in 0..<10 {
            if let connection = try? await RedisConnection.connect(configuration) { return connection }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await RedisConnection.connect(configuration)
    }

    /// Polls `condition` until it holds (errors count as not yet); the suite's time limit
    /// bounds the wait.
    static func eventually(_ condition: () async throws -> Bool) async throws {
        while true {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
