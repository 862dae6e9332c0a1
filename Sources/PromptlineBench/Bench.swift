import AsyncHTTPClient
import Foundation
import NIOCore
import PromptlineCore

/// `promptline bench`: starts a mock upstream and Promptline servers as subprocesses on
/// loopback, drives them, and measures the figures of docs/performance.md. Every figure is the
/// median of several runs.
package struct Bench: Sendable {
    /// What to measure and how hard.
    package struct Configuration: Sendable {
        /// The `promptline` executable to start.
        package var executable: String
        package var runs = 3
        package var intakePrompts = 50_000
        package var batchSize = 100
        package var intakeClients = 8
        package var drainTasks = 20_000
        package var drainWorkers = 64
        package var concurrencyWorkers = 1_000
        package var concurrencyLatency: Duration = .seconds(1)
        package var concurrencyTasks = 10_000
        /// Pages of the text document the summary figure summarises.
        package var summaryPages = 2_000
        /// Chat completions per second offered to each path of the proxy scenario.
        package var proxyRate = 1_000
        /// How long each path of the proxy scenario is measured per run, after its warm-up.
        package var proxyDuration: Duration = .seconds(10)
        package var proxyWarmup: Duration = .seconds(2)
        /// How long one path has the schedule before the other takes over.
        package var proxySlice: Duration = .seconds(1)
        package var scenarios: Set<Scenario> = Set(Scenario.allCases)
        /// Vectors, their dimension and timed queries of the knowledge scenario's search figures.
        package var knowledgeVectors = 100_000
        package var knowledgeDimension = 384
        package var knowledgeQueries = 200
        /// A PostgreSQL with pgvector for the knowledge scenario (`postgres://…`); its figures
        /// are not measured yet.
        package var vectorURL: String?
        /// Clustered vectors loaded into pgvector for its search and recall figures.
        package var pgvectorVectors = 20_000
        /// Where the servers keep their tasks.
        package var store: Store = .embedded
        /// The Redis to use with the Redis store; `nil` starts a private `redis-server`
        /// (append-only file, fsync every second) for the run.
        package var redisURL: String?

        package init(executable: String) {
            self.executable = executable
        }
    }

    package enum Scenario: String, CaseIterable, Sendable {
        case intake, drain, concurrency, proxy, summary, knowledge
    }

    package enum Store: String, CaseIterable, Sendable {
        case embedded, redis
    }

    /// One measured figure.
    package struct Figure: Sendable, Encodable {
        package var name: String
        package var unit: String
        package var runs: [Double]
        /// The figure to reach, when there is one.
        package var target: Double?
        /// Whether reaching means being at or above the target (or at or below it).
        package var higherIsBetter = true
        package var setup: String
        /// Decimals to print the figure with.
        package var decimals = 1
        /// Set when something makes this figure, or those beside it, untrustworthy; printed
        /// loudly under the table.
        package var alarm: String?
        package var median: Double {
            let sorted = runs.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        package var meetsTarget: Bool? {
            target.map { higherIsBetter ? median >= $0 : median <= $0 }
        }

        enum CodingKeys: String, CodingKey { case name, unit, runs, median, target, meetsTarget = "meets_target", setup, alarm }
        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(unit, forKey: .unit)
            try c.encode(runs, forKey: .runs)
            try c.encode(median, forKey: .median)
            try c.encodeIfPresent(target, forKey: .target)
            try c.encodeIfPresent(meetsTarget, forKey: .meetsTarget)
            try c.encode(setup, forKey: .setup)
            try c.encodeIfPresent(alarm, forKey: .alarm)
        }
    }

    let configuration: Configuration
    let http: HTTPClient
    let workDirectory: String

    package init(configuration: Configuration) {
        self.configuration = configuration
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(connectionPool: pool))
        self.workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("promptline-bench-\(UUID().uuidString.prefix(8))").path
    }

    /// Runs the scenarios and answers their figures; `progress` hears what is going on.
    package func run(progress: @Sendable (String) -> Void) async throws -> [Figure] {
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: workDirectory) }
        var figures: [Figure] = []
        var redis: BenchRedis?
        do {
            if configuration.store == .redis {
                redis = try await BenchRedis.start(url: configuration.redisURL, directory: workDirectory)
            }
            if configuration.scenarios.contains(.intake) { figures.append(try await intake(redis: redis, progress: progress)) }
            if configuration.scenarios.contains(.drain) { figures += try await drain(redis: redis, progress: progress) }
            if configuration.scenarios.contains(.concurrency) { figures.append(try await concurrency(redis: redis, progress: progress)) }
            if configuration.scenarios.contains(.proxy) { figures += try await proxy(redis: redis, progress: progress) }
            if configuration.scenarios.contains(.summary) { figures += try await summary(redis: redis, progress: progress) }
            if configuration.scenarios.contains(.knowledge) { figures += try await knowledge(progress: progress) }
        } catch {
            await redis?.stop()
            try? await http.shutdown()
            throw error
        }
        await redis?.stop()
        try await http.shutdown()
        return figures
    }

    // MARK: - Scenarios

    /// Prompts per second accepted (202, durably stored) in batches, with no workers running.
    func intake(redis: BenchRedis?, progress: (String) -> Void) async throws -> Figure {
        let mock = try startMock(latencyMs: 0)
        defer { mock.stop() }
        var runs: [Double] = []
        for run in 1...configuration.runs {
            let server = try startServer(name: "intake-\(run)", upstreamPort: mock.port, workers: 0, redis: redis)
            defer { server.process.stop() }
            let elapsed = try await submit(count: configuration.intakePrompts, port: server.port, clients: configuration.intakeClients, tag: "intake\(run)")
            runs.append(Double(configuration.intakePrompts) / elapsed)
            progress("intake run \(run): \(Int(runs.last!)) prompts/s")
        }
        return Figure(name: "intake", unit: "prompts/s", runs: runs, target: 20_000,
                      setup: "\(configuration.intakePrompts) prompts in batches of \(configuration.batchSize), \(configuration.intakeClients) concurrent clients, \(storeSetup(redis)), workers 0")
    }

    /// Tasks per second completed from a full queue against a 0 ms upstream; on Redis, also
    /// the commands Redis ran per task (`INFO commandstats`, scripts' own commands included).
    func drain(redis: BenchRedis?, progress: (String) -> Void) async throws -> [Figure] {
        let mock = try startMock(latencyMs: 0)
        defer { mock.stop() }
        var runs: [Double] = []
        var commandsPerTask: [Double] = []
        var scriptsPerTask: [Double] = []
        var serverCPU: [Double] = []
        var redisCPU: [Double] = []
        var mockCPU: [Double] = []
        for run in 1...configuration.runs {
            let dataDir = "\(workDirectory)/drain-\(run)"
            let loader = try startServer(name: "drain-load-\(run)", upstreamPort: mock.port, workers: 0, dataDir: dataDir, redis: redis)
            _ = try await submit(count: configuration.drainTasks, port: loader.port, clients: configuration.intakeClients, tag: "drain\(run)")
            loader.process.stop()
            let before = try await redis?.commandStats()
            let redisCPUBefore = try await redis?.cpuTime()
            let mockCPUBefore = mock.cpuTime()
            let start = ContinuousClock.now
            let server = try startServer(
                name: "drain-\(run)", upstreamPort: mock.port, workers: configuration.drainWorkers, dataDir: dataDir, redis: redis
            )
            defer {
                server.process.stop()
                try? FileManager.default.removeItem(atPath: dataDir)
            }
            let done = try await waitUntilFinished(count: configuration.drainTasks, port: server.port)
            let elapsed = (done - start).seconds
            runs.append(Double(configuration.drainTasks) / elapsed)
            var line = "drain run \(run): \(Int(runs.last!)) tasks/s"
            // CPU time per task does not depend on what else the machine runs, as wall time does.
            if let cpu = server.process.cpuTime() {
                serverCPU.append(cpu.seconds * 1e6 / Double(configuration.drainTasks))
                line += String(format: ", server CPU %.0f µs/task", serverCPU.last!)
            }
            if let before = mockCPUBefore, let after = mock.cpuTime() {
                mockCPU.append((after - before).seconds * 1e6 / Double(configuration.drainTasks))
                line += String(format: ", mock CPU %.0f µs/task", mockCPU.last!)
            }
            if let redis, let redisCPUBefore {
                redisCPU.append((try await redis.cpuTime() - redisCPUBefore).seconds * 1e6 / Double(configuration.drainTasks))
                line += String(format: ", Redis CPU %.0f µs/task", redisCPU.last!)
            }
            if let redis, let before {
                let after = try await redis.commandStats()
                let tasks = Double(configuration.drainTasks)
                commandsPerTask.append(Double(after.total - before.total) / tasks)
                scriptsPerTask.append(Double(after.scripts - before.scripts) / tasks)
                line += String(format: ", %.2f Redis commands/task (%.2f script calls/task)", commandsPerTask.last!, scriptsPerTask.last!)
                line += "; busiest: " + after.delta(since: before).prefix(6).map { "\($0.name) \(String(format: "%.2f", Double($0.calls) / tasks))" }.joined(separator: ", ")
            }
            progress(line)
        }
        var figures = [Figure(name: "drain", unit: "tasks/s", runs: runs, target: 4_800,
                              setup: "\(configuration.drainTasks) queued tasks, \(configuration.drainWorkers) workers, mock upstream 0 ms, \(storeSetup(redis)), timed from server launch to the last completion")]
        if !serverCPU.isEmpty {
            figures.append(Figure(name: "drain CPU", unit: "µs/task", runs: serverCPU, target: nil,
                                  setup: "server process CPU time (user + system) per drained task, start-up included: steady however busy the machine is"))
        }
        if !mockCPU.isEmpty {
            figures.append(Figure(name: "mock CPU", unit: "µs/task", runs: mockCPU, target: nil,
                                  setup: "mock upstream CPU time per drained task: the share of the cores the server does not get"))
        }
        if redis != nil {
            figures.append(Figure(name: "redis CPU", unit: "µs/task", runs: redisCPU, target: nil,
                                  setup: "Redis CPU time (INFO cpu) per drained task"))
            figures.append(Figure(name: "redis cmds", unit: "cmd/task", runs: commandsPerTask, target: nil,
                                  setup: "Redis commands per drained task from INFO commandstats, those run inside scripts included"))
            figures.append(Figure(name: "redis trips", unit: "call/task", runs: scriptsPerTask, target: nil,
                                  setup: "script calls (EVALSHA) per drained task: round trips to Redis"))
        }
        return figures
    }

    /// Throughput with a slow upstream, as a fraction of workers / latency.
    func concurrency(redis: BenchRedis?, progress: (String) -> Void) async throws -> Figure {
        let latencyMs = Int(configuration.concurrencyLatency.milliseconds)
        let mock = try startMock(latencyMs: latencyMs)
        defer { mock.stop() }
        let ideal = Double(configuration.concurrencyWorkers) / configuration.concurrencyLatency.seconds
        var runs: [Double] = []
        for run in 1...configuration.runs {
            let server = try startServer(
                name: "concurrency-\(run)", upstreamPort: mock.port, workers: configuration.concurrencyWorkers, redis: redis
            )
            defer { server.process.stop() }
            let start = ContinuousClock.now
            _ = try await submit(count: configuration.concurrencyTasks, port: server.port, clients: 4, tag: "cl\(run)", batchSize: 1_000)
            let done = try await waitUntilFinished(count: configuration.concurrencyTasks, port: server.port)
            let rate = Double(configuration.concurrencyTasks) / (done - start).seconds
            runs.append(100 * rate / ideal)
            progress("concurrency run \(run): \(Int(rate)) tasks/s = \(String(format: "%.1f", runs.last!))% of C/L")
        }
        return Figure(name: "concurrency", unit: "% of C/L", runs: runs, target: 95,
                      setup: "C=\(configuration.concurrencyWorkers) workers, L=\(latencyMs) ms, \(configuration.concurrencyTasks) tasks, \(storeSetup(redis)), timed from the first submission to the last completion")
    }

    // MARK: - Processes

    struct Running {
        let process: ChildProcess
        let port: Int
    }

    func startMock(latencyMs: Int) throws -> (port: Int, stop: () -> Void, cpuTime: () -> Duration?) {
        let mock = try ChildProcess(
            name: "mock-upstream", executable: configuration.executable,
            arguments: ["mock-upstream", "--port", "0", "--latency-ms", "\(latencyMs)"],
            logPath: "\(workDirectory)/mock-\(latencyMs).log")
        let port = try mock.waitForListening(prefix: "mock-upstream listening on")
        return (port, mock.stop, mock.cpuTime)
    }

    /// Starts a server; with Redis, each data directory name becomes a key prefix of its own.
    func startServer(name: String, upstreamPort: Int, workers: Int, dataDir: String? = nil, redis: BenchRedis? = nil) throws -> Running {
        let directory = dataDir ?? "\(workDirectory)/\(name)"
        var arguments = [
            "serve", "--port", "0", "--workers", "\(workers)",
            "--data-dir", directory,
            "--upstream-url", "http://127.0.0.1:\(upstreamPort)/v1",
            "--log-level", "warning", "--env-file", "/dev/null",
        ]
        if let redis {
            let prefix = "bench-\(URL(fileURLWithPath: workDirectory).lastPathComponent)-\(URL(fileURLWithPath: directory).lastPathComponent):"
            arguments += ["--redis-url", redis.url, "--redis-prefix", prefix]
        }
        let server = try ChildProcess(
            name: name, executable: configuration.executable, arguments: arguments,
            logPath: "\(workDirectory)/\(name).log")
        return Running(process: server, port: try server.waitForListening(prefix: "promptline listening on"))
    }

    func storeSetup(_ redis: BenchRedis?) -> String {
        redis.map { "Redis store (\($0.description))" } ?? "embedded store"
    }

    // MARK: - HTTP

    /// Submits `count` prompts in batches from `clients` concurrent clients; answers the seconds it took.
    func submit(count: Int, port: Int, clients: Int, tag: String, batchSize: Int? = nil) async throws -> Double {
        let size = batchSize ?? configuration.batchSize
        let batches = stride(from: 0, to: count, by: size).map { start in
            Self.batchBody((start..<min(start + size, count)).map { "\(tag) prompt \($0)" })
        }
        let url = "http://127.0.0.1:\(port)/api/tasks"
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    for index in stride(from: client, to: batches.count, by: clients) {
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "content-type", value: "application/json")
                        request.body = .bytes(batches[index])
                        let response = try await http.execute(request, timeout: .seconds(60))
                        let body = try await response.body.collect(upTo: 16 << 20)
                        guard response.status == .accepted else {
                            throw BenchError("submission answered \(response.status.code): \(String(buffer: body))")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        return (ContinuousClock.now - start).seconds
    }

    static func batchBody(_ prompts: [String]) -> ByteBuffer {
        let list = prompts.map { "\"\($0)\"" }.joined(separator: ",")
        return ByteBuffer(string: #"{"prompts":[\#(list)]}"#)
    }

    /// Polls `/api/stats` until `count` tasks are finished; answers when that was seen.
    func waitUntilFinished(count: Int, port: Int, timeout: Duration = .seconds(600)) async throws -> ContinuousClock.Instant {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let response = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/stats"), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            let stats = try JSONDecoder().decode(Stats.self, from: Data(body.readableBytesView))
            let finished = stats.queue.completed + stats.queue.error + stats.queue.cancelled
            if finished >= count {
                if stats.queue.error > 0 { throw BenchError("\(stats.queue.error) tasks ended in error; the figure would be wrong") }
                return ContinuousClock.now
            }
            // Each poll costs the server a count over the whole table: poll rarely while much
            // is left, often near the end so the finishing time is exact.
            try await Task.sleep(for: finished >= count * 9 / 10 ? .milliseconds(10) : .milliseconds(250))
        }
        throw BenchError("tasks did not finish within \(timeout)")
    }

    /// The part of `GET /api/stats` the benchmark reads.
    struct Stats: Decodable {
        var queue: QueueCounts
    }
}
