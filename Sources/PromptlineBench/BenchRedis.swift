import Foundation
import Logging
import RedisClient
#if canImport(Glibc)
import Glibc
#endif

/// The Redis a Redis-store benchmark runs against: one given by URL, or a private
/// `redis-server` with an append-only file fsynced every second (Redis's usual durable
/// setting), started in the benchmark's directory and stopped after it.
struct BenchRedis: Sendable, CustomStringConvertible {
    let url: String
    let pool: RedisConnectionPool
    private let server: ChildProcess?

    var description: String {
        server == nil ? "given Redis" : "private redis-server, appendonly yes, appendfsync everysec"
    }

    static func start(url: String?, directory: String) async throws -> BenchRedis {
        var server: ChildProcess?
        let address: String
        if let url {
            address = url
        } else {
            let port = try freePort()
            let redisDirectory = "\(directory)/redis"
            try FileManager.default.createDirectory(atPath: redisDirectory, withIntermediateDirectories: true)
            server = try ChildProcess(
                name: "redis-server", executable: try executable("redis-server"),
                arguments: [
                    "--port", "\(port)", "--bind", "127.0.0.1", "--dir", redisDirectory, "--save", "",
                    "--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no",
                    // Its log to a file: nothing reads its standard output, and a full pipe would
                    // block Redis in the middle of a run.
                    "--logfile", "\(directory)/redis-server.log",
                ],
                logPath: "\(directory)/redis.log")
            address = "redis://127.0.0.1:\(port)"
        }
        let pool = RedisConnectionPool(try RedisConfiguration(url: address), logger: Logger(label: "bench-redis"))
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            do {
                _ = try await pool.send(PING())
                break
            } catch {
                if ContinuousClock.now > deadline {
                    server?.stop()
                    throw BenchError("Redis at \(address) does not answer: \(error)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return BenchRedis(url: address, pool: pool, server: server)
    }

    func stop() async {
        if server != nil {
            // Our own server: ask it to stop (it answers by closing the connection).
            _ = try? await pool.send(RawCommand("SHUTDOWN", "NOSAVE"))
        }
        await pool.shutdown()
        server?.stop()
    }

    /// Calls per command since Redis started.
    struct CommandStats {
        var calls: [String: Int]
        var total: Int { calls.values.reduce(0, +) }
        var scripts: Int { (calls["evalsha"] ?? 0) + (calls["eval"] ?? 0) }

        /// Calls per command since `earlier`, busiest first.
        func delta(since earlier: CommandStats) -> [(name: String, calls: Int)] {
            calls.map { ($0.key, $0.value - (earlier.calls[$0.key] ?? 0)) }.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }
        }
    }

    /// CPU time Redis has used since it started (user + system).
    func cpuTime() async throws -> Duration {
        let report = try await pool.send(INFO("cpu"))
        var seconds = 0.0
        for line in report.split(whereSeparator: \.isNewline)
        where line.hasPrefix("used_cpu_user:") || line.hasPrefix("used_cpu_sys:") {
            seconds += Double(line.split(separator: ":").last ?? "") ?? 0
        }
        return .seconds(seconds)
    }

    func commandStats() async throws -> CommandStats {
        let report = try await pool.send(INFO("commandstats"))
        var calls: [String: Int] = [:]
        // cmdstat_evalsha:calls=20000,usec=…
        for line in report.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            let parts = line.dropFirst("cmdstat_".count).split(separator: ":", maxSplits: 1)
            guard parts.count == 2,
                  let field = parts[1].split(separator: ",").first(where: { $0.hasPrefix("calls=") }),
                  let count = Int(field.dropFirst("calls=".count)) else { continue }
            calls[String(parts[0])] = count
        }
        return CommandStats(calls: calls)
    }

    private static func executable(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/sbin", "/usr/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw BenchError("\(name) is not installed (apt-get install -y redis-server), or pass --redis-url")
    }

    /// A loopback port nothing listens on now.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
