import Foundation
import ArgumentParser
import Logging
import MockUpstream

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `promptline mock-upstream`: the OpenAI-compatible simulator on its own.
struct MockUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-upstream",
        abstract: "Run the OpenAI-compatible simulator.",
        discussion: """
            Answers POST /v1/chat/completions with "echo: " and the last user message, plain or streamed, \
            POST /v1/embeddings with deterministic unit vectors (384 dimensions unless asked; texts that \
            share words are close), and GET /v1/models. A prompt may carry a fault of its own: [[mock:status=500,times=2]], \
            [[mock:status=429,retry_after_ms=200]], [[mock:type=insufficient_quota,status=429]], \
            [[mock:reset]], [[mock:cut]], [[mock:latency_ms=50]], [[mock:stall_ms=5000]], \
            [[mock:token_delay_ms=10]]. GET /mock/calls?prompt=…, GET /mock/stats and POST /mock/reset \
            report and clear the calls received.
            """
    )

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0 picks a free one).")
    var port = 9100

    @Option(name: .customLong("latency-ms"), help: "Milliseconds before the first byte of every answer.")
    var latencyMilliseconds = 0

    @Option(name: .customLong("jitter-ms"), help: "Extra random latency, up to this many milliseconds.")
    var jitterMilliseconds = 0

    @Option(name: .customLong("token-delay-ms"), help: "Milliseconds between two streamed token chunks.")
    var tokenDelayMilliseconds = 0

    @Option(help: "Fraction of requests answered 500 (0...1).")
    var errorRate = 0.0

    @Option(help: "Fraction of requests answered 429 rate_limit_exceeded, with retry-after headers (0...1).")
    var rateLimitRate = 0.0

    @Option(name: .customLong("retry-after-ms"), help: "The wait sent with rate-limit 429s, in milliseconds.")
    var retryAfterMilliseconds = 1000

    @Option(help: "Fraction of requests answered 429 insufficient_quota (0...1).")
    var quotaErrorRate = 0.0

    @Option(help: "Fraction of requests answered 400 invalid_request_error (0...1).")
    var badRequestRate = 0.0

    @Option(help: "Fraction of requests that stall mid-answer (0...1).")
    var stallRate = 0.0

    @Option(name: .customLong("stall-ms"), help: "How long a stall lasts, in milliseconds.")
    var stallMilliseconds = 60_000

    @Option(help: "Fraction of requests whose connection is reset without an answer (0...1).")
    var resetRate = 0.0

    @Option(help: "Fraction of answers cut off before their end (0...1).")
    var cutRate = 0.0

    @Option(name: .customLong("max-rps"), help: "Requests per second allowed; above it, 429 with retry-after-ms.")
    var maxRequestsPerSecond: Int?

    @Option(help: "Seed for the random faults and jitter, to repeat a run.")
    var seed: UInt64?

    func run() async throws {
        var configuration = MockUpstreamConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.latency = .milliseconds(latencyMilliseconds)
        configuration.jitter = .milliseconds(jitterMilliseconds)
        configuration.tokenDelay = .milliseconds(tokenDelayMilliseconds)
        configuration.errorRate = errorRate
        configuration.rateLimitRate = rateLimitRate
        configuration.retryAfter = .milliseconds(retryAfterMilliseconds)
        configuration.quotaErrorRate = quotaErrorRate
        configuration.badRequestRate = badRequestRate
        configuration.stallRate = stallRate
        configuration.stall = .milliseconds(stallMilliseconds)
        configuration.resetRate = resetRate
        configuration.cutRate = cutRate
        configuration.maxRequestsPerSecond = maxRequestsPerSecond
        configuration.seed = seed
        let problems = configuration.problems
        guard problems.isEmpty else {
            throw ValidationError(problems.joined(separator: "\n"))
        }

        // Logs go to stderr: stdout carries only the line that tells the port.
        var logger = Logger(label: "promptline.mock-upstream") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        let server = try await MockUpstreamServer.start(configuration, logger: logger)
        let shownHost = host.contains(":") ? "[\(host)]" : host
        FileHandle.standardOutput.write(Data("mock-upstream listening on http://\(shownHost):\(server.port)/v1\n".utf8))
        try await server.run()
    }
}
