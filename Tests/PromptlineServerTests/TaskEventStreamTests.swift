import Foundation
import NIOCore
import PromptlineCore
@testable import PromptlineServer
import Synchronization
import Testing

/// The event stream's loop on a store that the test changes by hand: no HTTP, no clock.
@Suite struct TaskEventStreamTests {
    /// Tasks as a store would answer them; ids left out read as unknown.
    final class FakeTasks: Sendable {
        private let records = Mutex<[String: TaskRecord]>([:])
        private let failing = Mutex(false)

        func set(_ id: String, _ status: TaskStatus, progress: Int = 0, result: String? = nil, error: String? = nil) {
            let record = TaskRecord(
                id: id, status: status, request: ChatRequest(model: "m", messages: [], maxTokens: 10, temperature: 0),
                priority: 0, metadata: [:], result: result, error: error, progress: progress, attempts: 0,
                queuedAt: Date(), startedAt: nil, finishedAt: nil, usage: nil
            )
            records.withLock { $0[id] = record }
        }

        func failReads() { failing.withLock { $0 = true } }

        var reader: TaskEventStream.Reader {
            { ids in
                if self.failing.withLock({ $0 }) { throw StoreUnavailableError("connection refused") }
                return self.records.withLock { records in records.filter { ids.contains($0.key) } }
            }
        }
    }

    /// The events in a chunk of the stream: (event, data) pairs, and the comments.
    static func parse(_ buffer: ByteBuffer) throws -> (events: [(String, [String: Any])], comments: [String]) {
        var events: [(String, [String: Any])] = []
        var comments: [String] = []
        for block in String(buffer: buffer).components(separatedBy: "\n\n") where !block.isEmpty {
            if block.hasPrefix(":") {
                comments.append(block)
                continue
            }
            let lines = block.components(separatedBy: "\n")
            #expect(lines.count == 2 && lines[0].hasPrefix("event: ") && lines[1].hasPrefix("data: "), "malformed event: \(block)")
            let data = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].dropFirst(6).utf8)) as? [String: Any])
            events.append((String(lines[0].dropFirst(7)), data))
        }
        return (events, comments)
    }

    @Test func firstEventsAreTheCurrentStateThenOnlyChanges() async throws {
        let tasks = FakeTasks()
        tasks.set("a", .queued)
        tasks.set("b", .processing, progress: 40)
        var stream = TaskEventStream(ids: ["a", "b", "a"], read: tasks.reader)

        let first = try Self.parse(try await stream.poll()).events
        #expect(first.map { $0.0 } == ["status", "status"])
        #expect(first.map { $0.1["task_id"] as? String } == ["a", "b"])
        #expect(first.map { $0.1["status"] as? String } == ["queued", "processing"])
        #expect(first[1].1["progress"] as? String == "40")
        #expect(first.allSatisfy { $0.1["result"] == nil && $0.1["error"] == nil })

        #expect(try await stream.poll().readableBytes == 0)

        tasks.set("b", .processing, progress: 70)
        let progressed = try Self.parse(try await stream.poll()).events
        #expect(progressed.map { $0.1["task_id"] as? String } == ["b"])
        #expect(progressed.first?.1["progress"] as? String == "70")

        tasks.set("a", .completed, progress: 100, result: "answer")
        tasks.set("b", .error, progress: 70, error: "rate limited")
        let finished = try Self.parse(try await stream.poll()).events
        #expect(finished.map { $0.1["status"] as? String } == ["completed", "error"])
        #expect(finished[0].1["result"] as? String == "answer" && finished[0].1["error"] is NSNull)
        #expect(finished[1].1["error"] as? String == "rate limited" && finished[1].1["result"] is NSNull)
        #expect(stream.unfinished.isEmpty)

        let done = try Self.parse(try stream.doneEvent()).events
        #expect(done.count == 1 && done[0].0 == "done")
        #expect(done[0].1 as? [String: Int] == ["completed": 1, "error": 1, "cancelled": 0, "not_found": 0])
    }

    @Test func anUnknownTaskIsNotFoundOnceAndCountsAsFinished() async throws {
        let tasks = FakeTasks()
        tasks.set("known", .cancelled)
        var stream = TaskEventStream(ids: ["missing", "known"], read: tasks.reader)
        let events = try Self.parse(try await stream.poll()).events
        #expect(events.count == 2)
        #expect(events[0].1 as? [String: String] == ["task_id": "missing", "status": "not_found"])
        #expect(events[1].1["status"] as? String == "cancelled")
        #expect(stream.unfinished.isEmpty)
        #expect(try Self.parse(try stream.doneEvent()).events.first?.1 as? [String: Int]
            == ["completed": 0, "error": 0, "cancelled": 1, "not_found": 1])
    }

    @Test func runWritesHeartbeatsWhileNothingChangesAndEndsWithDone() async throws {
        let tasks = FakeTasks()
        tasks.set("a", .processing, progress: 10)
        let configuration = TaskEventStream.Configuration(fastPoll: .milliseconds(1), slowPoll: .milliseconds(1), heartbeat: .zero)
        var stream = TaskEventStream(ids: ["a"], configuration: configuration, read: tasks.reader)
        let first = try await stream.poll()
        var written = ByteBuffer()
        let ending = await stream.run(first: first) { chunk in
            // The task finishes once a heartbeat has been seen.
            if String(buffer: chunk).contains(": keep-alive") { tasks.set("a", .completed, progress: 100, result: "x") }
            written.writeImmutableBuffer(chunk)
        }
        #expect(ending == .done)
        let (events, comments) = try Self.parse(written)
        #expect(!comments.isEmpty && comments.allSatisfy { $0 == ": keep-alive" })
        #expect(events.map { $0.0 } == ["status", "status", "done"])
        #expect(events.map { $0.1["status"] as? String }.prefix(2) == ["processing", "completed"])
        #expect(String(buffer: written).hasSuffix("\n\n"))
    }

    @Test func runStopsWhenAWriteFails() async throws {
        struct Gone: Error {}
        let tasks = FakeTasks()
        tasks.set("a", .queued)
        let configuration = TaskEventStream.Configuration(fastPoll: .milliseconds(1), slowPoll: .milliseconds(1), probe: .zero)
        var stream = TaskEventStream(ids: ["a"], configuration: configuration, read: tasks.reader)
        let first = try await stream.poll()
        let writes = Mutex(0)
        // The task never finishes: only the failed write can end the loop. Nothing changes
        // after the first write: the others are probes.
        let ending = await stream.run(first: first) { chunk in
            let count = writes.withLock { $0 += 1; return $0 }
            if count > 1 { #expect(String(buffer: chunk) == ":\n\n") }
            if count > 3 { throw Gone() }
        }
        #expect(ending == .clientClosed)
        #expect(writes.withLock { $0 } == 4)
    }

    @Test func aStoreFailureEndsTheStreamWithAnErrorEvent() async throws {
        let tasks = FakeTasks()
        tasks.set("a", .queued)
        let configuration = TaskEventStream.Configuration(fastPoll: .milliseconds(1), slowPoll: .milliseconds(1))
        var stream = TaskEventStream(ids: ["a"], configuration: configuration, read: tasks.reader)
        let first = try await stream.poll()
        tasks.failReads()
        var written = ByteBuffer()
        let ending = await stream.run(first: first) { written.writeImmutableBuffer($0) }
        #expect(ending == .storeFailed)
        let events = try Self.parse(written).events
        #expect(events.map { $0.0 } == ["status", "error"])
        #expect((events.last?.1["detail"] as? String)?.contains("connection refused") == true)
    }
}
