import Foundation
import EventLoopExecutor
import MockUpstream
import NIOCore
import NIOHTTP1
import NIOPosix
import PromptlineCore
import Synchronization
import Testing

@testable import OpenAIUpstream

/// The client's own connection pool, watched from the mock upstream's side.
@Suite struct UpstreamConnectionPoolTests {
    static func withMock(
        maxConnections: Int = 8, streaming: Bool = true, _ body: (OpenAIClient, MockUpstreamServer) async throws -> Void
    ) async throws {
        var mockConfiguration = MockUpstreamConfiguration()
        mockConfiguration.port = 0
        let mock = try await MockUpstreamServer.start(mockConfiguration)
        let client = OpenAIClient(configuration: .init(
            baseURL: "http://127.0.0.1:\(mock.port)/v1", timeout: .seconds(10), streaming: streaming, maxConnections: maxConnections
        ))
        defer { Task { try? await client.shutdown(); try? await mock.shutdown() } }
        try await body(client, mock)
    }

    static func chatBody(_ prompt: String, stream: Bool = false) -> ByteBuffer {
        ByteBuffer(bytes: JSONValue.object([
            "model": .string("mock-model"), "stream": .bool(stream),
            "messages": .array([.object(["role": .string("user"), "content": .string(prompt)])]),
        ]).canonicalBytes)
    }

    @Test(arguments: [true, false])
    func callsInTurnShareOneConnection(streaming: Bool) async throws {
        try await Self.withMock(streaming: streaming) { client, mock in
            for index in 0..<20 {
                let result = try await client.complete(OpenAIClientIntegrationTests.request("turn \(index)")) { _ in }
                #expect(result.content == "echo: turn \(index)")
            }
            let relayed = try await client.relay(.POST, path: "/chat/completions", body: Self.chatBody("relayed"), streaming: false)
            #expect(relayed.status == 200)
            #expect(mock.connectionsAccepted == 1)
        }
    }

    /// A caller running on an event loop (as the server's request handlers do) gets a
    /// connection on that loop, and its call never leaves the loop's thread.
    @Test func aCallerOnAnEventLoopGetsAConnectionOnThatLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var mockConfiguration = MockUpstreamConfiguration()
        mockConfiguration.port = 0
        let mock = try await MockUpstreamServer.start(mockConfiguration)
        let client = OpenAIClient(
            configuration: .init(baseURL: "http://127.0.0.1:\(mock.port)/v1", timeout: .seconds(10), streaming: true, maxConnections: 8),
            eventLoopGroup: group
        )
        let loops = Array(group.makeIterator())
        for index in 0..<8 {
            let loop = loops[index % 2]
            let stayed = try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
                var onLoop = loop.inEventLoop
                let result = try await client.complete(OpenAIClientIntegrationTests.request("loop \(index)")) { _ in }
                #expect(result.content == "echo: loop \(index)")
                onLoop = onLoop && loop.inEventLoop
                let relayed = try await client.relay(.POST, path: "/chat/completions", body: Self.chatBody("relayed \(index)"), streaming: false)
                #expect(relayed.status == 200)
                return onLoop && loop.inEventLoop
            }
            #expect(stayed)
        }
        // One connection per loop, each used by its loop's calls in turn.
        #expect(mock.connectionsAccepted == 2)
        try await client.shutdown()
        try await mock.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func concurrentCallsWaitForTheLimitsConnections() async throws {
        try await Self.withMock(maxConnections: 2) { client, mock in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        let result = try await client.complete(OpenAIClientIntegrationTests.request("slow \(index) [[mock:latency_ms=50]]")) { _ in }
                        return result.content.hasPrefix("echo: slow \(index)")
                    }
                }
                var answered = 0
                for try await right in group where right { answered += 1 }
                #expect(answered == 12)
            }
            #expect(mock.connectionsAccepted == 2)
        }
    }

    @Test func aWaitForAConnectionCountsAgainstTheDeadline() async throws {
        var mockConfiguration = MockUpstreamConfiguration()
        mockConfiguration.port = 0
        let mock = try await MockUpstreamServer.start(mockConfiguration)
        let origin = try #require(UpstreamOrigin("http://127.0.0.1:\(mock.port)/v1"))
        let pool = try UpstreamConnectionPool(
            configuration: .init(origin: origin, maxConnections: 1, connectTimeout: .seconds(30)), group: MultiThreadedEventLoopGroup.singleton
        )
        func post(_ body: ByteBuffer, within deadline: TimeAmount) async throws -> UpstreamResponse {
            let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions", headers: [
                "host": origin.hostHeader, "content-type": "application/json", "content-length": String(body.readableBytes),
            ])
            return try await pool.send(head, body: body, deadline: .now() + deadline, stallTimeout: .seconds(30))
        }
        // A stream of six seconds holds the only connection.
        let holding = try await post(Self.chatBody(String(repeating: "word ", count: 30) + "[[mock:token_delay_ms=200]]", stream: true), within: .seconds(30))
        #expect(holding.head.status == .ok)
        do {
            _ = try await post(Self.chatBody("next"), within: .milliseconds(300))
            Issue.record("the second call should have timed out waiting for the only connection")
        } catch let error as UpstreamError {
            #expect(error.code == .timedOut)
            #expect(error.message == "timed out waiting for a free connection to 127.0.0.1:\(mock.port)")
        }
        withExtendedLifetime(holding) {}
        pool.shutdown()
        try await mock.shutdown()
    }

    @Test func anAbandonedStreamClosesItsConnectionAndTheNextCallGetsAnother() async throws {
        try await Self.withMock(maxConnections: 1) { client, mock in
            let relayed = try await client.relay(
                .POST, path: "/chat/completions", body: Self.chatBody("one two three four five six [[mock:token_delay_ms=100]]", stream: true),
                streaming: true
            )
            guard case .events(let body) = relayed.body else {
                Issue.record("expected a stream")
                return
            }
            var iterator = body.makeAsyncIterator()
            #expect(try await iterator.next() != nil)
            // Dropped here, half-read.
        }
        try await Self.withMock(maxConnections: 1) { client, mock in
            do {
                let relayed = try await client.relay(
                    .POST, path: "/chat/completions", body: Self.chatBody("a b c d e f [[mock:token_delay_ms=100]]", stream: true),
                    streaming: true
                )
                guard case .events(let body) = relayed.body else { return }
                var iterator = body.makeAsyncIterator()
                _ = try await iterator.next()
            }
            let result = try await client.complete(OpenAIClientIntegrationTests.request("after")) { _ in }
            #expect(result.content == "echo: after")
            #expect(mock.connectionsAccepted == 2)
        }
    }

    @Test func idleConnectionsTheUpstreamClosedAreNotAFailure() async throws {
        try await Self.withMock(maxConnections: 4) { client, mock in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<4 {
                    group.addTask { _ = try await client.complete(OpenAIClientIntegrationTests.request("warm \(index) [[mock:latency_ms=30]]")) { _ in } }
                }
                try await group.waitForAll()
            }
            let warmed = mock.connectionsAccepted
            for round in 0..<5 {
                await mock.closeConnections()
                let result = try await client.complete(OpenAIClientIntegrationTests.request("after close \(round)")) { _ in }
                #expect(result.content == "echo: after close \(round)")
            }
            #expect(mock.connectionsAccepted > warmed)
        }
    }

    @Test func aShutDownClientRefusesCalls() async throws {
        try await Self.withMock { client, _ in
            _ = try await client.complete(OpenAIClientIntegrationTests.request("before")) { _ in }
            try await client.shutdown()
            do {
                _ = try await client.complete(OpenAIClientIntegrationTests.request("after")) { _ in }
                Issue.record("a shut-down client answered")
            } catch let error as UpstreamError {
                #expect(error.code == .connectionFailed)
                #expect(error.message == "the upstream client is shut down")
            }
        }
    }
}
