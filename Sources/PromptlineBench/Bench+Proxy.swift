import AsyncHTTPClient
import Foundation
import NIOCore
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

    /// What one open-loop phase measured; latencies leave the warm-up out.
    struct OpenLoopResult: Sendable {
        /// From the moment the schedule said to send to the last byte of the answer.
        var latency: LatencySummary
        /// How late the client started requests against the schedule: the client's own noise.
        var lag: LatencySummary
        /// 200 answers per second over the measured window.
        var rate: Double
        /// Answers other than 200 and requests that failed, warm-up included.
        var failures: Int
        var firstFailure: String?
        /// Requests sent, warm-up included.
        var sent: Int
        /// CPU time per request (warm-up included) of the server, the mock and this client
        /// during the phase.
        var serverCPU: Duration?
        var mockCPU: Duration?
        var clientCPU: Duration?
    }

    struct OpenLoopSample: Sendable {
        var index: Int
        var latency: Duration
        var lag: Duration
        var finished: ContinuousClock.Instant
        var failure: String?
    }

    /// Latency of non-streamed chat completions at a fixed offered rate, sent straight to a
    /// 0 ms mock upstream and through the server, in alternating phases so the machine's
    /// noise hits both alike.
    func proxy(redis: BenchRedis?, progress: (String) -> Void) async throws -> [Figure] {
        let mock = try startMock(latencyMs: 0)
        defer { mock.stop() }
        let server = try startServer(name: "proxy", upstreamPort: mock.port, workers: 0, redis: redis)
        defer { server.process.stop() }
        // One client for both paths, keep-alive, with room for far more requests in flight than
        // the rate needs: a request never waits for a connection the other path holds.
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(connectionPool: pool))
        let urls: [ProxyPath: String] = [
            .direct: "http://127.0.0.1:\(mock.port)/v1/chat/completions",
            .proxy: "http://127.0.0.1:\(server.port)/v1/chat/completions",
        ]
        var rounds: [[ProxyPath: OpenLoopResult]] = []
        for round in 1...configuration.runs {
            // Odd rounds go direct first, even rounds through the server first.
            let order: [ProxyPath] = round % 2 == 1 ? [.direct, .proxy] : [.proxy, .direct]
            var results: [ProxyPath: OpenLoopResult] = [:]
            for path in order {
                let serverBefore = server.process.cpuTime(), mockBefore = mock.cpuTime(), clientBefore = ChildProcess.cpuTime(of: getpid())
                var result = await openLoop(client: client, url: urls[path]!, tag: "r\(round)-\(path.rawValue)")
                // CPU time per request does not depend on what else the machine runs, as latency does.
                if let serverBefore, let after = server.process.cpuTime() { result.serverCPU = (after - serverBefore) / result.sent }
                if let mockBefore, let after = mock.cpuTime() { result.mockCPU = (after - mockBefore) / result.sent }
                if let clientBefore, let after = ChildProcess.cpuTime(of: getpid()) { result.clientCPU = (after - clientBefore) / result.sent }
                results[path] = result
                let cpu = [("server", result.serverCPU), ("mock", result.mockCPU), ("client", result.clientCPU)].compactMap { name, time in
                    time.map { "\(name) CPU \(Int(($0.seconds * 1e6).rounded())) µs/req" }
                }
                progress(
                    "proxy round \(round) \(path.rawValue): \(result.latency.line), \(Int(result.rate.rounded())) req/s, "
                        + "client lag p99 \(result.lag.p99.milliseconds) ms, \(result.failures) non-200"
                        + (cpu.isEmpty ? "" : ", " + cpu.joined(separator: ", ")))
                if let failure = result.firstFailure {
                    progress("!!! proxy round \(round) \(path.rawValue): \(result.failures) requests not answered 200; the first: \(failure)")
                }
            }
            rounds.append(results)
            let direct = results[.direct]!.latency, proxied = results[.proxy]!.latency
            progress("proxy round \(round) overhead: p50 \((proxied.p50 - direct.p50).milliseconds) ms, p99 \((proxied.p99 - direct.p99).milliseconds) ms")
        }
        try await client.shutdown()
        return proxyFigures(rounds)
    }

    private func proxyFigures(_ rounds: [[ProxyPath: OpenLoopResult]]) -> [Figure] {
        let setup = "\(configuration.proxyRate) req/s offered open loop per path, \(String(format: "%g", configuration.proxyDuration.seconds)) s after "
            + "\(String(format: "%g", configuration.proxyWarmup.seconds)) s warm-up, paths alternating in \(rounds.count) round\(rounds.count == 1 ? "" : "s"), "
            + "non-streamed, unique prompts, cache false, mock upstream 0 ms"
        func milliseconds(_ value: ([ProxyPath: OpenLoopResult]) -> Duration) -> [Double] {
            rounds.map { value($0).seconds * 1_000 }
        }
        var figures: [Figure] = []
        let percentiles: [(String, KeyPath<LatencySummary, Duration>)] = [("p50", \.p50), ("p90", \.p90), ("p99", \.p99), ("max", \.max)]
        for path in ProxyPath.allCases {
            for (label, percentile) in percentiles {
                figures.append(Figure(
                    name: "\(path.rawValue) \(label)", unit: "ms", runs: milliseconds { $0[path]!.latency[keyPath: percentile] },
                    target: nil, higherIsBetter: false,
                    setup: path == .direct ? "straight to the mock: \(setup)" : "through the server: \(setup)", decimals: 3))
            }
        }
        for (label, percentile, target) in [("p50", \LatencySummary.p50, 0.3), ("p99", \LatencySummary.p99, 1.0)] {
            figures.append(Figure(
                name: "overhead \(label)", unit: "ms",
                runs: milliseconds { $0[.proxy]!.latency[keyPath: percentile] - $0[.direct]!.latency[keyPath: percentile] },
                target: target, higherIsBetter: false,
                setup: "proxy \(label) − direct \(label) of the same round", decimals: 3))
        }
        for path in ProxyPath.allCases {
            figures.append(Figure(
                name: "\(path.rawValue) rate", unit: "req/s", runs: rounds.map { $0[path]!.rate }, target: nil,
                setup: "200 answers per second achieved of \(configuration.proxyRate) offered, from the measured window's start to its last answer"))
        }
        let serverCPU = rounds.compactMap { $0[.proxy]!.serverCPU.map { $0.seconds * 1e6 } }
        if serverCPU.count == rounds.count {
            figures.append(Figure(
                name: "server CPU", unit: "µs/req", runs: serverCPU, target: nil,
                setup: "server process CPU time (user + system) per relayed chat completion, warm-up included"))
        }
        let mockCPU = rounds.compactMap { $0[.direct]!.mockCPU.map { $0.seconds * 1e6 } }
        if mockCPU.count == rounds.count {
            figures.append(Figure(
                name: "mock CPU", unit: "µs/req", runs: mockCPU, target: nil,
                setup: "mock upstream CPU time per chat completion sent straight to it: what the server path adds to, on the same cores"))
        }
        let clientCPU = rounds.compactMap { $0[.proxy]!.clientCPU.map { $0.seconds * 1e6 } }
        if clientCPU.count == rounds.count {
            figures.append(Figure(
                name: "client CPU", unit: "µs/req", runs: clientCPU, target: nil,
                setup: "the bench's own CPU time per request sent through the server: its share of the same cores"))
        }
        figures.append(Figure(
            name: "client lag p99", unit: "ms", runs: milliseconds { max($0[.direct]!.lag.p99, $0[.proxy]!.lag.p99) },
            target: nil, higherIsBetter: false,
            setup: "how late the bench itself started requests against the schedule (the worse path): included in the latencies above",
            decimals: 3))
        let failures = rounds.map { $0.values.reduce(0) { $0 + $1.failures } }
        let total = failures.reduce(0, +)
        figures.append(Figure(
            name: "non-200", unit: "answers", runs: failures.map(Double.init), target: 0, higherIsBetter: false,
            setup: "answers other than 200 and failed requests per round, both paths, warm-up included",
            alarm: total == 0 ? nil : "\(total) chat completions were not answered 200 (see the progress lines): the proxy latencies do not describe successful relays"))
        return figures
    }

    /// Sends `rate × (warm-up + duration)` requests to `url` on a fixed schedule, each in a
    /// task of its own, so that a slow answer never delays the next request (no coordinated
    /// omission): latency counts from when the schedule said to send.
    func openLoop(client: HTTPClient, url: String, tag: String) async -> OpenLoopResult {
        let clock = ContinuousClock()
        let interval = Duration.seconds(1) / configuration.proxyRate
        let warmupCount = Int(configuration.proxyWarmup.seconds * Double(configuration.proxyRate))
        let total = warmupCount + Int(configuration.proxyDuration.seconds * Double(configuration.proxyRate))
        let start = clock.now + .milliseconds(10)
        let windowStart = start + interval * warmupCount
        let samples = await withTaskGroup(of: OpenLoopSample.self, returning: [OpenLoopSample].self) { group in
            for index in 0..<total {
                let due = start + interval * index
                let body = Self.chatBody(content: "bench \(tag) \(index)")
                // After a late wake-up, the requests whose time has passed go at once.
                if clock.now < due { try? await Task.sleep(until: due, clock: clock) }
                group.addTask {
                    let sent = clock.now
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    request.headers.add(name: "content-type", value: "application/json")
                    request.body = .bytes(body)
                    var failure: String?
                    do {
                        let response = try await client.execute(request, timeout: .seconds(10))
                        let answer = try await response.body.collect(upTo: 1 << 20)
                        if response.status != .ok {
                            failure = "\(response.status.code) \(String(buffer: answer).prefix(300))"
                        } else if response.headers.first(name: "x-promptline-cache") == "hit" {
                            failure = "answered from the response cache, not relayed"
                        }
                    } catch {
                        failure = "\(error)"
                    }
                    let finished = clock.now
                    return OpenLoopSample(index: index, latency: finished - due, lag: sent - due, finished: finished, failure: failure)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let measured = samples.filter { $0.index >= warmupCount }
        let failed = samples.filter { $0.failure != nil }
        let answered = measured.filter { $0.failure == nil }
        let end = answered.map(\.finished).max() ?? windowStart
        return OpenLoopResult(
            latency: LatencySummary(measured.map(\.latency)),
            lag: LatencySummary(measured.map(\.lag)),
            rate: end > windowStart ? Double(answered.count) / (end - windowStart).seconds : 0,
            failures: failed.count,
            firstFailure: failed.min { $0.index < $1.index }?.failure,
            sent: samples.count)
    }

    /// A non-streamed chat completion the response cache cannot answer: unique content, and
    /// `cache: false` for good measure.
    static func chatBody(content: String) -> ByteBuffer {
        ByteBuffer(string: #"{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"\#(content)"}],"max_tokens":16,"cache":false}"#)
    }
}
