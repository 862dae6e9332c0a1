import PromptlineDocuments
import Synchronization
import Testing

@Suite struct ExtractionSlotsTests {
    /// A holder that keeps its slot until the test opens the gate.
    private struct Gate: Sendable {
        let stream: AsyncStream<Void>
        let continuation: AsyncStream<Void>.Continuation
        init() { (stream, continuation) = AsyncStream.makeStream() }
        func wait() async { for await _ in stream {} }
        func open() { continuation.finish() }
    }

    /// Names noted in the order they come.
    private final class Log: Sendable {
        private let names = Mutex<[String]>([])
        func note(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    @Test func waitersGetTheSlotInArrivalOrder() async throws {
        let slots = ExtractionSlots(count: 1)
        let gate = Gate()
        let order = Log()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await slots.withSlot { await gate.wait() } }
            try await waitUntil("the holder runs") { slots.running == 1 }
            for (position, name) in ["a", "b", "c", "d"].enumerated() {
                group.addTask { try await slots.withSlot { order.note(name) } }
                try await waitUntil("\(name) waits") { slots.waiting == position + 1 }
            }
            gate.open()
            try await group.waitForAll()
        }
        #expect(order.all == ["a", "b", "c", "d"])
        #expect(slots.running == 0 && slots.waiting == 0)
    }

    @Test func aCancelledWaiterLeavesTheQueueAndTakesNoSlot() async throws {
        let slots = ExtractionSlots(count: 1)
        let gate = Gate()
        let ran = Log()
        let holder = Task { try await slots.withSlot { await gate.wait() } }
        try await waitUntil("the holder runs") { slots.running == 1 }

        let cancelled = Task { try await slots.withSlot { ran.note("cancelled") } }
        try await waitUntil("the first waiter waits") { slots.waiting == 1 }
        let next = Task { try await slots.withSlot { ran.note("next") } }
        try await waitUntil("the second waiter waits") { slots.waiting == 2 }

        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(slots.waiting == 1)
        #expect(slots.running == 1)

        gate.open()
        try await holder.value
        try await next.value
        #expect(ran.all == ["next"])
        #expect(slots.running == 0 && slots.waiting == 0)
        // The slot is free again: this does not wait.
        #expect(try await slots.withSlot { slots.running } == 1)
    }

    @Test func anAlreadyCancelledTaskDoesNotTakeAFreeSlot() async throws {
        let slots = ExtractionSlots(count: 2)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await slots.withSlot { "ran" }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(slots.running == 0)
    }

    @Test func aSlotIsGivenBackWhenTheWorkThrows() async throws {
        struct Failure: Error {}
        let slots = ExtractionSlots(count: 1)
        await #expect(throws: Failure.self) { try await slots.withSlot { throw Failure() } }
        #expect(slots.running == 0)
        #expect(try await slots.withSlot { "again" } == "again")
    }
}
