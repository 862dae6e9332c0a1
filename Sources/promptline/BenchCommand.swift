import ArgumentParser
import Foundation
import PromptlineBench

/// `promptline bench`: prints the figures of docs/performance.md as a table and as JSON.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure intake, drain, concurrency, proxy-overhead and summary figures against a mock upstream on loopback, and vector search (knowledge).",
        discussion: "Starts `promptline mock-upstream` and `promptline serve` as subprocesses (this same executable; build it with -c release for real figures) and reports the median of --runs runs."
    )

    @Option(help: "Runs per figure; the median is reported.") var runs = 3
    @Option(help: "Scenarios to run, comma-separated: intake, drain, concurrency, proxy, summary, knowledge.") var scenarios = "intake,drain,concurrency,proxy,summary"
    @Option(name: .customLong("intake-prompts"), help: "Prompts submitted per intake run.") var intakePrompts = 50_000
    @Option(name: .customLong("drain-tasks"), help: "Tasks queued per drain run.") var drainTasks = 20_000
    @Option(name: .customLong("drain-workers"), help: "Workers of the draining server.") var drainWorkers = 64
    @Option(name: .customLong("concurrency-workers"), help: "Workers (C) for the concurrency figure.") var concurrencyWorkers = 1_000
    @Option(name: .customLong("concurrency-latency-ms"), help: "Upstream latency (L) for the concurrency figure.") var concurrencyLatencyMs = 1_000
    @Option(name: .customLong("concurrency-tasks"), help: "Tasks per concurrency run.") var concurrencyTasks = 10_000
    @Option(name: .customLong("summary-pages"), help: "Pages of the text document of the summary figure.") var summaryPages = 2_000
    @Option(name: .customLong("proxy-rate"), help: "Chat completions per second offered to each path of the proxy figure (open loop).") var proxyRate = 1_000
    @Option(name: .customLong("proxy-seconds"), help: "Seconds each path of the proxy figure is measured per run.") var proxySeconds = 10.0
    @Option(name: .customLong("proxy-warmup-seconds"), help: "Seconds of warm-up per path before the proxy figure is measured.") var proxyWarmupSeconds = 2.0
    @Option(name: .customLong("proxy-slice-seconds"), help: "Seconds one path has the schedule before the other takes over.") var proxySliceSeconds = 1.0
    @Option(name: .customLong("knowledge-vectors"), help: "Vectors searched by the knowledge figures.") var knowledgeVectors = 100_000
    @Option(name: .customLong("knowledge-queries"), help: "Timed queries per knowledge run (after 20 of warm-up).") var knowledgeQueries = 200
    @Option(name: .customLong("pgvector-vectors"), help: "Clustered vectors loaded into pgvector for its figures (loading is slow: HNSW inserts).") var pgvectorVectors = 20_000
    @Option(name: .customLong("vector-url"), help: "A PostgreSQL with pgvector (postgres://…): the knowledge scenario measures its search and recall@10 too.") var vectorURL: String?
    @Option(help: "Store of the servers: embedded or redis.") var store = "embedded"
    @Option(name: .customLong("redis-url"), help: "Redis for --store redis. Default: a private redis-server (appendonly, fsync every second).") var redisURL: String?
    @Option(help: "Write the JSON report to this file as well.") var json: String?

    func run() async throws {
        var configuration = Bench.Configuration(executable: Self.executablePath())
        configuration.runs = max(1, runs)
        configuration.intakePrompts = intakePrompts
        configuration.drainTasks = drainTasks
        configuration.drainWorkers = drainWorkers
        configuration.concurrencyWorkers = concurrencyWorkers
        configuration.concurrencyLatency = .milliseconds(concurrencyLatencyMs)
        configuration.concurrencyTasks = concurrencyTasks
        configuration.summaryPages = max(1, summaryPages)
        guard proxyRate > 0, proxySeconds > 0, proxySliceSeconds > 0, proxyWarmupSeconds >= 0 else {
            throw ValidationError("--proxy-rate, --proxy-seconds and --proxy-slice-seconds must be positive, --proxy-warmup-seconds not negative")
        }
        guard knowledgeVectors >= 10, knowledgeQueries > 0 else {
            throw ValidationError("--knowledge-vectors must be at least 10 and --knowledge-queries positive")
        }
        configuration.knowledgeVectors = knowledgeVectors
        configuration.knowledgeQueries = knowledgeQueries
        configuration.vectorURL = vectorURL
        configuration.pgvectorVectors = max(100, pgvectorVectors)
        configuration.proxyRate = proxyRate
        configuration.proxyDuration = .seconds(proxySeconds)
        configuration.proxyWarmup = .seconds(proxyWarmupSeconds)
        configuration.proxySlice = .seconds(proxySliceSeconds)
        var chosen: Set<Bench.Scenario> = []
        for name in scenarios.split(separator: ",") {
            guard let scenario = Bench.Scenario(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("unknown scenario '\(name)'; choose from \(Bench.Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            chosen.insert(scenario)
        }
        configuration.scenarios = chosen
        guard let store = Bench.Store(rawValue: store) else {
            throw ValidationError("unknown store '\(store)'; choose embedded or redis")
        }
        configuration.store = store
        configuration.redisURL = redisURL
        let figures = try await Bench(configuration: configuration).run { line in
            FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
        }
        print(Self.table(figures))
        for alarm in figures.compactMap(\.alarm) {
            print("\n!!! \(alarm.uppercased()) !!!")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let report = try encoder.encode(["figures": figures])
        print(String(decoding: report, as: UTF8.self))
        if let json { try report.write(to: URL(fileURLWithPath: json)) }
    }

    static func table(_ figures: [Bench.Figure]) -> String {
        var lines = ["figure         median        target               runs                              setup"]
        for figure in figures {
            let format = "%.\(figure.decimals)f"
            let runs = figure.runs.map { String(format: format, $0) }.joined(separator: ", ")
            lines.append([
                figure.name.padding(toLength: 14, withPad: " ", startingAt: 0),
                "\(String(format: format, figure.median)) \(figure.unit)".padding(toLength: 13, withPad: " ", startingAt: 0),
                figure.target.map { target in
                    let shown = target == target.rounded() ? "\(Int(target))" : String(format: format, target)
                    return "\(figure.higherIsBetter ? "≥" : "≤") \(shown) \(figure.unit)\(figure.meetsTarget == false ? " (missed)" : "")"
                }.map { $0.padding(toLength: 20, withPad: " ", startingAt: 0) } ?? "—".padding(toLength: 20, withPad: " ", startingAt: 0),
                runs.padding(toLength: 33, withPad: " ", startingAt: 0),
                figure.setup,
            ].joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    /// This executable, so the benchmark starts the same build it runs from.
    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
