import Foundation
import NIOCore
import PromptlineCore
import ServiceLifecycle

/// Follows a set of tasks and writes each change of theirs as a server-sent event, until
/// every one has finished; then a last `done` event with the counts.
///
/// It reads the store, so it sees what any instance sharing the store does: the unfinished
/// tasks are read again every `fastPoll` while they change, and less often (up to every
/// `slowPoll`, longer for very many tasks) while they do not. A change is a status or a
/// progress that differs from what this stream last sent; the first event of a task is
/// its state when the stream began. An unknown or expired task gets one `not_found` event
/// and counts as finished.
///
/// After `heartbeat` without an event it writes a comment, `: keep-alive`, so that proxies
/// keep the connection open; after `probe` without a write, a bare comment (`:`). A client
/// ignores both. The probe is how the stream learns that the client has gone: the server
/// allows half-closed connections, so nothing but a write that fails tells it, and the
/// second write after the client has closed fails.
struct TaskEventStream: Sendable {
    struct Configuration: Sendable {
        var fastPoll: Duration = .milliseconds(100)
        var slowPoll: Duration = .milliseconds(250)
        /// Tasks read per second at most: a stream of very many tasks reads them less often.
        var readsPerSecond = 20_000
        var heartbeat: Duration = .seconds(15)
        var probe: Duration = .seconds(1)
    }

    /// Reads tasks; ids it leaves out of its answer read as `not_found`.
    typealias Reader = @Sendable ([String]) async throws -> [String: TaskRecord]

    /// Why a stream ended.
    enum Ending: String, Sendable {
        case done
        case clientClosed = "client closed"
        case shutdown
        case storeFailed = "store failed"
    }

    /// What the stream has sent of one task.
    private struct Sent: Equatable {
        var status: TaskStatus
        var progress: Int
    }

    let configuration: Configuration
    private let read: Reader
    /// In the order they were named, duplicates dropped.
    private(set) var unfinished: [String]
    private var sent: [String: Sent] = [:]
    private var counts = StatusCounts()

    init(ids: [String], configuration: Configuration = .init(), read: @escaping Reader) {
        var seen = Set<String>()
        unfinished = ids.filter { seen.insert($0).inserted }
        self.configuration = configuration
        self.read = read
    }

    /// Reads the unfinished tasks once: answers the events of what changed (nothing when
    /// nothing did) and forgets the tasks that have finished.
    mutating func poll() async throws -> ByteBuffer {
        var events = ByteBuffer()
        var stillUnfinished: [String] = []
        let records = try await read(unfinished)
        for id in unfinished {
            guard let record = records[id] else {
                counts.add(nil)
                try Self.append(event: "status", StatusEvent(taskID: id, record: nil), to: &events)
                continue
            }
            let now = Sent(status: record.status, progress: record.progress)
            if sent[id] != now {
                sent[id] = now
                try Self.append(event: "status", StatusEvent(taskID: id, record: record), to: &events)
            }
            if record.status.isFinished {
                counts.add(record.status)
                sent[id] = nil
            } else {
                stillUnfinished.append(id)
            }
        }
        unfinished = stillUnfinished
        return events
    }

    /// The last event: how many tasks ended in each way.
    func doneEvent() throws -> ByteBuffer {
        var event = ByteBuffer()
        try Self.append(event: "done", counts, to: &event)
        return event
    }

    /// Writes `first` (the events of a first ``poll()``), then every change until all the
    /// tasks have finished, then `done`. Returns early when a write fails (the client has
    /// gone), at a graceful shutdown, or when the store fails (after an `error` event).
    mutating func run(first: ByteBuffer, write: (ByteBuffer) async throws -> Void) async -> Ending {
        let clock = ContinuousClock()
        var lastEvent = clock.now
        var lastWrite = clock.now
        var wait = configuration.fastPoll
        var events = first
        do {
            while true {
                if unfinished.isEmpty {
                    events.writeImmutableBuffer(try doneEvent())
                    try await write(events)
                    return .done
                }
                let now = clock.now
                if events.readableBytes > 0 {
                    try await write(events)
                    (lastEvent, lastWrite) = (now, now)
                    wait = configuration.fastPoll
                } else {
                    if now - lastEvent >= configuration.heartbeat {
                        try await write(ByteBuffer(string: ": keep-alive\n\n"))
                        (lastEvent, lastWrite) = (now, now)
                    } else if now - lastWrite >= configuration.probe {
                        try await write(ByteBuffer(string: ":\n\n"))
                        lastWrite = now
                    }
                    wait = min(wait * 2, configuration.slowPoll)
                }
                let pace = Duration.seconds(Double(unfinished.count) / Double(configuration.readsPerSecond))
                try? await Task.sleep(for: max(wait, pace))
                if Task.isShuttingDownGracefully || Task.isCancelled { return .shutdown }
                do {
                    events = try await poll()
                } catch {
                    var event = ByteBuffer()
                    try? Self.append(event: "error", ["detail": "cannot read the tasks: \(error); open the stream again"], to: &event)
                    try? await write(event)
                    return .storeFailed
                }
            }
        } catch {
            return .clientClosed
        }
    }

    private static func append(event: String, _ data: some Encodable, to buffer: inout ByteBuffer) throws {
        buffer.writeString("event: \(event)\ndata: ")
        buffer.writeBytes(try JSONBody.encoder.encode(data))
        buffer.writeString("\n\n")
    }
}
