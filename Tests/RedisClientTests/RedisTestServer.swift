import Foundation
import RedisClient
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `redis-server` of the test's own: a free loopback port, a scratch directory, nothing
/// saved to disk. ``stop()`` ends it and removes the directory.
actor RedisTestServer {
    nonisolated let port: Int
    nonisolated let password: String?
    private let arguments: [String]
    private let directory: URL
    private var process: Process?
    /// The write end of the watchdog's standard input: when the test process ends, however
    /// it ends, the pipe closes and the watchdog kills the server.
    private var lifeline: Pipe?

    /// Becomes redis-server (`$@`) after starting a watchdog that kills it once standard input
    /// reaches its end, so that no server outlives a test run that crashed or was killed.
    private static let watchdog = """
        exec 3<&0
        (cat <&3 >/dev/null; kill -9 $$ 2>/dev/null) &
        exec "$@" </dev/null 3<&-
        """

    /// The address, with the password if there is one.
    nonisolated var url: String {
        let credentials = password.map { ":\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)@" } ?? ""
        return "redis://\(credentials)127.0.0.1:\(port)"
    }

    nonisolated var configuration: RedisConfiguration {
        RedisConfiguration(port: port, password: password)
    }

    private init(port: Int, password: String?, arguments: [String]) {
        self.port = port
        self.password = password
        self.arguments = arguments
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redisclient-tests-\(UUID().uuidString)")
    }

    /// Starts a server and waits until it answers; tries a few ports in case one is taken
    /// between choosing it and binding it.
    static func start(password: String? = nil, arguments: [String] = []) async throws -> RedisTestServer {
        var failures: [String] = []
        for _ in 0..<5 {
            let server = RedisTestServer(port: try freeLoopbackPort(), password: password, arguments: arguments)
            do {
                try await server.launch()
                return server
            } catch {
                failures.append("\(error)")
                await server.stop()
            }
        }
        throw RedisTestServerError(description: "cannot start redis-server: \(failures.joined(separator: "; "))")
    }

    /// Starts the server again on the same port, after ``kill()``.
    func restart() async throws {
        var lastError: (any Error)?
        // The port was just released by the killed server; binding it again may take a moment.
        for _ in 0..<20 {
            do {
                try await launch()
                return
            } catch {
                lastError = error
                await terminate(signal: SIGKILL)
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        throw lastError ?? RedisTestServerError(description: "cannot restart redis-server")
    }

    /// Ends the server at once, as a crash would (`SIGKILL`), and waits until it has gone.
    func kill() async {
        await terminate(signal: SIGKILL)
    }

    /// Ends the server and removes its directory.
    func stop() async {
        await terminate(signal: SIGTERM)
        try? FileManager.default.removeItem(at: directory)
    }

    private func launch() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let output = directory.appendingPathComponent("output.log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let serverArguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--protected-mode", "no",
            "--dir", directory.path, "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", directory.appendingPathComponent("redis.log").path,
        ] + (password.map { ["--requirepass", $0] } ?? []) + arguments
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", Self.watchdog, "sh", try Self.executable().path] + serverArguments
        let log = try FileHandle(forWritingTo: output)
        process.standardOutput = log
        process.standardError = log
        let lifeline = Pipe()
        process.standardInput = lifeline
        try process.run()
        self.process = process
        self.lifeline = lifeline

        // Wait until it answers PING; give up if it exits (a taken port, a bad option).
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(30)
        var lastError = "no answer"
        while clock.now < giveUp {
            guard process.isRunning else {
                throw RedisTestServerError(description: "redis-server on port \(port) exited: \(logs())")
            }
            do {
                var configuration = self.configuration
                configuration.connectTimeout = .seconds(2)
                configuration.commandTimeout = .seconds(5)
                let connection = try await RedisConnection.connect(configuration)
                let answer = try? await connection.send(PING())
                await connection.close()
                if answer == "PONG" { return }
            } catch {
                lastError = error.message
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisTestServerError(description: "redis-server on port \(port) did not answer: \(lastError); \(logs())")
    }

    private func terminate(signal: Int32) async {
        guard let process else { return }
        Self.send(signal, to: process.processIdentifier)
        try? lifeline?.fileHandleForWriting.close()
        var waited = 0
        while process.isRunning {
            waited += 1
            if waited == 250 { Self.send(SIGKILL, to: process.processIdentifier) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        self.process = nil
        lifeline = nil
    }

    private static func send(_ signal: Int32, to pid: Int32) {
        #if canImport(Glibc)
        _ = Glibc.kill(pid, signal)
        #else
        _ = Darwin.kill(pid, signal)
        #endif
    }

    private func logs() -> String {
        let files = ["output.log", "redis.log"].map { directory.appendingPathComponent($0) }
        let text = files.compactMap { try? String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
        return String(text.suffix(2_000))
    }

    private static func executable() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/redis-server" } + ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw RedisTestServerError(description: "redis-server is not installed (looked on PATH and in /usr/bin): install it, or set PROMPTLINE_TEST_REDIS_URL")
        }
        return URL(fileURLWithPath: found)
    }
}

struct RedisTestServerError: Error, CustomStringConvertible {
    var description: String
}

/// The Redis the integration suite shares: the one `PROMPTLINE_TEST_REDIS_URL` names, or
/// else a server the suite starts for itself and stops at its end.
///
/// If neither is possible, every test fails with the reason; none is skipped.
struct SharedRedis: SuiteTrait, TestScoping {
    @TaskLocal static var current: Result<String, RedisTestServerError>?

    /// The shared Redis's URL, or the reason there is none (which fails the test).
    static func url() throws -> String {
        guard let current else {
            throw RedisTestServerError(description: "the suite has no .sharedRedis trait")
        }
        return try current.get()
    }

    static func configuration() throws -> RedisConfiguration {
        try RedisConfiguration(url: url())
    }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        if let url = ProcessInfo.processInfo.environment["PROMPTLINE_TEST_REDIS_URL"], !url.isEmpty {
            try await Self.$current.withValue(.success(url), operation: function)
            return
        }
        let server: RedisTestServer
        do {
            server = try await RedisTestServer.start()
        } catch {
            let reason = RedisTestServerError(
                description: "PROMPTLINE_TEST_REDIS_URL is not set and the suite cannot start its own redis-server: \(error)"
            )
            try await Self.$current.withValue(.failure(reason), operation: function)
            return
        }
        do {
            try await Self.$current.withValue(.success(server.url), operation: function)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

extension Trait where Self == SharedRedis {
    /// Runs the suite against a Redis it shares (see ``SharedRedis``).
    static var sharedRedis: Self { SharedRedis() }
}

// MARK: - Loopback sockets

/// A loopback port that nothing listens on (bound, read back, closed again).
func freeLoopbackPort() throws -> Int {
    let listener = try SilentListener()
    defer { listener.close() }
    return listener.port
}

/// A TCP listener on 127.0.0.1 that never accepts: connections to it open (the kernel
/// completes them) but never get an answer.
final class SilentListener: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw RedisTestServerError(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            Self.close(descriptor)
            throw RedisTestServerError(description: "bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        Self.close(descriptor)
    }

    private static func close(_ descriptor: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }
}
