import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import PromptlineCore

/// The proxy scenario: what `POST /v1/chat/completions` through the server adds to a call
/// straight to the upstream, measured open loop.
extension Bench {
    /// Where a chat completion of the proxy scenario goes.
    enum ProxyPath: String, CaseIterable, Sendable {
        /// Straight to the mock upstream.
        case direct
        /// Through `promptline serve`, which relays it to the same mock.
        case proxy
    }

    /// What one round measured; latencies leave the warm-up out.
    struct ProxyRound: Sendable {
        /// From the moment the schedule said to send to the last byte of the answer.
        var latency: [ProxyPath: LatencySummary]
        /// How late the client started requests against the schedule, both paths: the
        /// client's own share of the latencies.
        var lag: LatencySummary
        /// 200 answers per second, both paths, from the measured window's start to the last answer.
        var rate: Double
        /// Answers other than 200 and requests that failed, warm-up included.
        var failures: [ProxyPath: Int]
        var firstFailure: [ProxyPath: String]
        /// Requests sent, warm-up included.
        var sent: [ProxyPath: Int]
        /// CPU time of the server per relayed request, and of the mock and this client per
        /// request of either path, warm-up included.
        var serverCPU: Duration?
        var mockCPU: Duration?
        var clientCPU: Duration?
    }

    /// Latency of non-streamed chat completions at a fixed offered rate, sent straight to a
    /// 0 ms mock upstream and through the server. One schedule serves both paths in
    /// alternating slices (one second each by default), so a burst of noise on this shared
    /// machine hits both alike instead of spoiling one path's whole phase.
    func proxy(redis: BenchRedis?, progress: (String) -> Void) async throws -> [Figure] {
        let mock = try startMock(latencyMs: 0)
        defer { mock.stop() }
        let server = try startServer(name: "proxy", upstreamPort: mock.port, workers: 0, redis: redis)
        defer { server.process.stop() }
        // One client for both paths, keep-alive, with room for far more requests in flight than
        // the rate needs: a request never waits for a connection. It has one event loop of its
        // own, where the schedule runs and every connection lives (see ``OpenLoop/loop``).
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = HTTPClient(eventLoopGroup: group, configuration: .init(connectionPool: pool))
        let urls: [ProxyPath: String] = [
            .direct: "http://127.0.0.1:\(mock.port)/v1/chat/completions",
            .proxy: "http://127.0.0.1:\(server.port)/v1/chat/completions",
        ]
        do {
            let rounds = try await proxyRounds(
                client: client, loop: group.next(), urls: urls, server: server.process, mock: mock, progress: progress
            )
            try await client.shutdown()
            try await group.shutdownGracefully()
            return proxyFigures(rounds)
        } catch {
            try? await client.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func proxyRounds(
        client: HTTPClient, loop: any EventLoop, urls: [ProxyPath: String], server: ChildProcess,
        mock: (port: Int, stop: () -> Void, cpuTime: () -> Duration?), progress: (String) -> Void
    ) async throws -> [ProxyRound] {
        var rounds: [ProxyRound] = []
        for number in 1...configuration.runs {
            // Odd rounds open with a direct slice, even rounds with a proxied one.
            let order: [ProxyPath] = number % 2 == 1 ? [.direct, .proxy] : [.proxy, .direct]
            let serverBefore = server.cpuTime(), mockBefore = mock.cpuTime(), clientBefore = ChildProcess.cpuTime(of: getpid())
            var round = try await openLoop(client: client, loop: loop, urls: urls, order: order, tag: "r\(number)")
            // CPU time per request does not depend on what else the machine runs, as latency does.
            let all = max(1, round.sent.values.reduce(0, +)), relayed = max(1, round.sent[.proxy]!)
            if let serverBefore, let after = server.cpuTime() { round.serverCPU = (after - serverBefore) / relayed }
            if let mockBefore, let after = mock.cpuTime() { round.mockCPU = (after - mockBefore) / all }
            if let clientBefore, let after = ChildProcess.cpuTime(of: getpid()) { round.clientCPU = (after - clientBefore) / all }
            rounds.append(round)
            for path in ProxyPath.allCases {
                progress("proxy round \(number) \(path.rawValue): \(round.latency[path]!.line), \(round.failures[path]!) non-200")
                if let failure = round.firstFailure[path] {
                    progress("!!! proxy round \(number) \(path.rawValue): \(round.failures[path]!) requests not answered 200; the first: \(failure)")
                }
            }
            let direct = round.latency[.direct]!, proxied = round.latency[.proxy]!
            let cpu = [("server", round.serverCPU), ("mock", round.mockCPU), ("client", round.clientCPU)].compactMap { name, time in
                time.map { "\(name) \(Int(($0.seconds * 1e6).rounded()))" }
            }
            progress(
                "proxy round \(number): overhead p50 \((proxied.p50 - direct.p50).formattedMilliseconds) ms, p99 \((proxied.p99 - direct.p99).formattedMilliseconds) ms; "
                    + "\(Int(round.rate.rounded())) req/s answered, client lag p99 \(round.lag.p99.formattedMilliseconds) ms"
                    + (cpu.isEmpty ? "" : "; CPU µs/req " + cpu.joined(separator: ", ")))
        }
        return rounds
    }

    private func proxyFigures(_ rounds: [ProxyRound]) -> [Figure] {
        let seconds = { (duration: Duration) in String(format: "%g", duration.seconds) }
        let setup = "\(configuration.proxyRate) req/s offered open loop, paths alternating every \(seconds(configuration.proxySlice)) s, "
            + "\(seconds(configuration.proxyDuration)) s measured per path after \(seconds(configuration.proxyWarmup)) s warm-up each, "
            + "\(rounds.count) round\(rounds.count == 1 ? "" : "s"); non-streamed, unique prompts, cache false, mock upstream 0 ms"
        func milliseconds(_ value: (ProxyRound) -> Duration) -> [Double] {
            rounds.map { value($0).seconds * 1_000 }
        }
        func microseconds(_ value: (ProxyRound) -> Duration?) -> [Double]? {
            let values = rounds.compactMap { value($0).map { $0.seconds * 1e6 } }
            return values.count == rounds.count ? values : nil
        }
        var figures: [Figure] = []
        let percentiles: [(String, KeyPath<LatencySummary, Duration>)] = [("p50", \.p50), ("p90", \.p90), ("p99", \.p99), ("max", \.max)]
        for path in ProxyPath.allCases {
            for (label, percentile) in percentiles {
                figures.append(Figure(
                    name: "\(path.rawValue) \(label)", unit: "ms", runs: milliseconds { $0.latency[path]![keyPath: percentile] },
                    target: nil, higherIsBetter: false,
                    setup: path == .direct ? "straight to the mock: \(setup)" : "through the server: \(setup)", decimals: 3))
            }
        }
        for (label, percentile, target) in [("p50", \LatencySummary.p50, 0.3), ("p99", \LatencySummary.p99, 1.0)] {
            figures.append(Figure(
                name: "overhead \(label)", unit: "ms",
                runs: milliseconds { $0.latency[.proxy]![keyPath: percentile] - $0.latency[.direct]![keyPath: percentile] },
                target: target, higherIsBetter: false,
                setup: "proxy \(label) − direct \(label) of the same round", decimals: 3))
        }
        figures.append(Figure(
            name: "proxy rate", unit: "req/s", runs: rounds.map(\.rate), target: nil,
            setup: "200 answers per second, both paths, of \(configuration.proxyRate) offered, from the measured window's start to its last answer"))
        if let cpu = microseconds(\.serverCPU) {
            figures.append(Figure(
                name: "server CPU", unit: "µs/req", runs: cpu, target: nil,
                setup: "server process CPU time (user + system) per relayed chat completion, warm-up included"))
        }
        if let cpu = microseconds(\.mockCPU) {
            figures.append(Figure(
                name: "mock CPU", unit: "µs/req", runs: cpu, target: nil,
                setup: "mock upstream CPU time per chat completion of either path: its share of the same cores"))
        }
        if let cpu = microseconds(\.clientCPU) {
            figures.append(Figure(
                name: "client CPU", unit: "µs/req", runs: cpu, target: nil,
                setup: "the bench's own CPU time per request of either path: its share of the same cores"))
        }
        figures.append(Figure(
            name: "client lag p99", unit: "ms", runs: milliseconds { $0.lag.p99 }, target: nil, higherIsBetter: false,
            setup: "how late the bench itself started requests against the schedule: included in the latencies above",
            decimals: 3))
        let failures = rounds.map { $0.failures.values.reduce(0, +) }
        let total = failures.reduce(0, +)
        figures.append(Figure(
            name: "non-200", unit: "answers", runs: failures.map(Double.init), target: 0, higherIsBetter: false,
            setup: "answers other than 200 and failed requests per round, both paths, warm-up included",
            alarm: total == 0 ? nil : "\(total) chat completions were not answered 200 (see the progress lines): the proxy latencies do not describe successful relays"))
        return figures
    }

    /// One round: `rate × 2 × (warm-up + duration)` requests on one open-loop schedule, the
    /// paths taking turns in slices, `order[0]` first; the first `warm-up` of each path is
    /// left out of the latencies.
    func openLoop(client: HTTPClient, loop: any EventLoop, urls: [ProxyPath: String], order: [ProxyPath], tag: String) async throws -> ProxyRound {
        let rate = configuration.proxyRate
        let sliceCount = max(1, Int(configuration.proxySlice.seconds * Double(rate)))
        let warmupCount = 2 * Int(configuration.proxyWarmup.seconds * Double(rate))
        let targets = try order.map { path in
            var request = try HTTPClient.Request(url: urls[path]!, method: .POST)
            request.headers.add(name: "content-type", value: "application/json")
            return request
        }
        let plan = OpenLoop(
            client: client,
            loop: loop,
            targets: targets,
            count: warmupCount + 2 * Int(configuration.proxyDuration.seconds * Double(rate)),
            rate: rate,
            target: { ($0 / sliceCount) % order.count },
            body: { Self.chatBody(content: "bench \(tag) \(order[($0 / sliceCount) % order.count].rawValue) \($0)") },
            check: { $0.headers.first(name: "x-promptline-cache") == "hit" ? "answered from the response cache, not relayed" : nil })
        let start = NIODeadline.now() + .milliseconds(10)
        let samples = try await plan.run(startingAt: start)
        let windowStart = plan.due(warmupCount, after: start)
        let measured = samples.filter { $0.index >= warmupCount }
        let answered = measured.filter { $0.failure == nil }
        let end = answered.map(\.finished).max() ?? windowStart
        var round = ProxyRound(
            latency: [:], lag: LatencySummary(measured.map(\.lag)),
            rate: end > windowStart ? Double(answered.count) * 1e9 / Double((end - windowStart).nanoseconds) : 0,
            failures: [:], firstFailure: [:], sent: [:])
        for (slot, path) in order.enumerated() {
            let mine = samples.filter { $0.target == slot }
            round.latency[path] = LatencySummary(mine.filter { $0.index >= warmupCount }.map(\.latency))
            round.sent[path] = mine.count
            let failed = mine.filter { $0.failure != nil }
            round.failures[path] = failed.count
            round.firstFailure[path] = failed.min { $0.index < $1.index }?.failure
        }
        return round
    }

    /// A non-streamed chat completion the response cache cannot answer: unique content, and
    /// `cache: false` for good measure.
    static func chatBody(content: String) -> ByteBuffer {
        ByteBuffer(string: #"{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"\#(content)"}],"max_tokens":16,"cache":false}"#)
    }
}
