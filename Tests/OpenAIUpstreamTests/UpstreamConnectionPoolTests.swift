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

    /// A pool of `maxConnections` straight to a fresh mock, without a client around it.
    static func withPool(maxConnections: Int, _ body: (UpstreamConnectionPool, MockUpstreamServer) async throws -> Void) async throws {
        var mockConfiguration = MockUpstreamConfiguration()
        mockConfiguration.port = 0
        let mock = try await MockUpstreamServer.start(mockConfiguration)
        let origin = try #require(UpstreamOrigin("http://127.0.0.1:\(mock.port)/v1"))
        let pool = try UpstreamConnectionPool(
            configuration: .init(origin: origin, maxConnections: maxConnections, connectTimeout: .seconds(30)),
            group: MultiThreadedEventLoopGroup.singleton
        )
        defer { Task { pool.shutdown(); try? await mock.shutdown() } }
        try await body(pool, mock)
    }

    static func post(
        _ body: ByteBuffer, to pool: UpstreamConnectionPool, within deadline: TimeAmount, wholeUpTo limit: Int? = nil
    ) async throws -> UpstreamResponse {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions", headers: [
            "host": pool.configuration.origin.hostHeader, "content-type": "application/json", "content-length": String(body.readableBytes),
        ])
        return try await pool.send(head, body: body, deadline: .now() + deadline, stallTimeout: .seconds(30), wholeUpTo: limit)
    }

    /// An answer read whole comes in one piece, head and body together; one past the limit
    /// fails, and its connection is not used again.
    @Test func anAnswerReadWholeComesInOnePieceWithinItsLimit() async throws {
        try await Self.withPool(maxConnections: 1) { pool, mock in
            let answer = try await Self.post(Self.chatBody("whole"), to: pool, within: .seconds(10), wholeUpTo: 1 << 20)
            #expect(answer.head.status == .ok)
            var pieces: [ByteBuffer] = []
            for try await piece in answer.body { pieces.append(piece) }
            #expect(pieces.count == 1)
            let text = String(buffer: try #require(pieces.first))
            #expect(text.contains("echo: whole"))
            #expect(String(buffer: try await answer.body.collect(upTo: text.utf8.count)) == text)
            await #expect(throws: NIOTooManyBytesError.self) { _ = try await answer.body.collect(upTo: text.utf8.count - 1) }

            await #expect(throws: NIOTooManyBytesError.self) {
                _ = try await Self.post(Self.chatBody("too long for the limit"), to: pool, within: .seconds(10), wholeUpTo: 64)
            }
            let after = try await Self.post(Self.chatBody("after"), to: pool, within: .seconds(10), wholeUpTo: 1 << 20)
            #expect(String(buffer: try await after.body.collect(upTo: 1 << 20)).contains("echo: after"))
            #expect(mock.connectionsAccepted == 2)
        }
    }

    /// An answer cut off after its head is a failure of that call, not a connection the
    /// upstream had closed while idle: the request is not sent again, even on a connection
    /// that served a call before.
    @Test func anAnswerCutOffMidBodyIsNotSentAgain() async throws {
        try await Self.withMock(maxConnections: 1, streaming: false) { client, mock in
            let first = try await client.relay(.POST, path: "/chat/completions", body: Self.chatBody("first"), streaming: false)
            #expect(first.status == 200)
            await #expect(throws: UpstreamError.self) {
                _ = try await client.relay(.POST, path: "/chat/completions", body: Self.chatBody("cut [[mock:cut]]"), streaming: false)
            }
            await #expect(throws: UpstreamError.self) {
                _ = try await client.complete(OpenAIClientIntegrationTests.request("cut too [[mock:cut]]")) { _ in }
            }
            #expect(mock.calls(forPrompt: "cut [[mock:cut]]") == 1)
            #expect(mock.calls(forPrompt: "cut too [[mock:cut]]") == 1)
        }
    }

    /// A caller cancelled while it waits for a whole answer hears so at once, and the
    /// connection, its answer unread, is closed.
    @Test func aCancelledCallForAWholeAnswerEndsAtOnce() async throws {
        try await Self.withPool(maxConnections: 1) { pool, mock in
            let started = ContinuousClock.now
            let call = Task {
                try await Self.post(Self.chatBody("slow [[mock:latency_ms=20000]]"), to: pool, within: .seconds(30), wholeUpTo: 1 << 20)
            }
            // Cancelled once the upstream has the request (before, nothing would have been sent).
            var waited = 0
            while mock.totalCalls == 0, waited < 1000 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            call.cancel()
            await #expect(throws: CancellationError.self) { _ = try await call.value }
            #expect(ContinuousClock.now - started < .seconds(10), "the call waited for the answer")
            let after = try await Self.post(Self.chatBody("after"), to: pool, within: .seconds(10), wholeUpTo: 1 << 20)
            #expect(after.head.status == .ok)
            #expect(mock.connectionsAccepted == 2)
        }
    }

    /// A call cancelled before its request went out sends nothing and leaves its connection
    /// to the next call.
    @Test func aCallCancelledBeforeItStartsLeavesItsConnectionUsable() async throws {
        try await Self.withPool(maxConnections: 1) { pool, mock in
            let call = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await Self.post(Self.chatBody("never sent"), to: pool, within: .seconds(10), wholeUpTo: 1 << 20)
            }
            await #expect(throws: CancellationError.self) { _ = try await call.value }
            let after = try await Self.post(Self.chatBody("after"), to: pool, within: .seconds(10), wholeUpTo: 1 << 20)
            #expect(String(buffer: try await after.body.collect(upTo: 1 << 20)).contains("echo: after"))
            #expect(mock.connectionsAccepted == 1)
            #expect(mock.totalCalls == 1)
        }
    }

    @Test func aWaitForAConnectionCountsAgainstTheDeadline() async throws {
        try await Self.withPool(maxConnections: 1) { pool, mock in
            // A stream of six seconds holds the only connection.
            let holding = try await Self.post(
                Self.chatBody(String(repeating: "word ", count: 30) + "[[mock:token_delay_ms=200]]", stream: true), to: pool, within: .seconds(30)
            )
            #expect(holding.head.status == .ok)
            do {
                _ = try await Self.post(Self.chatBody("next"), to: pool, within: .milliseconds(300), wholeUpTo: 1 << 20)
                Issue.record("the second call should have timed out waiting for the only connection")
            } catch let error as UpstreamError {
                #expect(error.code == .timedOut)
                #expect(error.message == "timed out waiting for a free connection to 127.0.0.1:\(mock.port)")
            }
            withExtendedLifetime(holding) {}
        }
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
                    .POST, path: "/chat/completions", body: Self.chatBody("a b c d e f [[mock:token_delay_ms=1000]]", stream: true),
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
