@testable import PromptlineRedis
import Synchronization
import Testing

/// The batcher that sends completions to Redis many at a time.
@Suite struct CompletionBatcherTests {
    /// Records the batches it is asked to send; answers "even" for each item.
    final class Recorder: Sendable {
        let batches = Mutex<[[Int]]>([])
        let failing = Mutex<Set<Int>>([])

        func send(_ items: [Int]) async throws -> [Bool] {
            batches.withLock { $0.append(items) }
            try await Task.sleep(for: .milliseconds(5))
            if !failing.withLock({ $0.isDisjoint(with: items) }) { throw TestFailure() }
            return items.map { $0 % 2 == 0 }
        }
    }

    struct TestFailure: Error {}

    @Test func everyCallerGetsItsOwnOutcomeAndCallsShareBatches() async throws {
        let batcher = CompletionBatcher<Int>(maximumBatch: 16)
        let recorder = Recorder()
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for item in 0..<500 {
                group.addTask { (item, try await batcher.submit(item) { try await recorder.send($0) }) }
            }
            var outcomes: [Int: Bool] = [:]
            for try await (item, outcome) in group { outcomes[item] = outcome }
            return outcomes
        }
        #expect(outcomes.count == 500)
        #expect(outcomes.allSatisfy { $0.value == ($0.key % 2 == 0) })
        let batches = recorder.batches.withLock { $0 }
        // Each item sent exactly once, and never more than the maximum at a time.
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<500))
        #expect(batches.allSatisfy { $0.count <= 16 })
        // 500 callers arriving while 5 ms sends are on their way must have shared some.
        #expect(batches.count < 500)
    }

    @Test func aFailedSendFailsEveryoneInItsBatchOnly() async throws {
        let batcher = CompletionBatcher<Int>()
        let recorder = Recorder()
        recorder.failing.withLock { $0 = [7] }
        let results = await withTaskGroup(of: (Int, Result<Bool, any Error>).self) { group in
            for item in 0..<100 {
                group.addTask {
                    do {
                        return (item, .success(try await batcher.submit(item) { try await recorder.send($0) }))
                    } catch {
                        return (item, .failure(error))
                    }
                }
            }
            var results: [Int: Result<Bool, any Error>] = [:]
            for await (item, result) in group { results[item] = result }
            return results
        }
        let failedBatch = Set(recorder.batches.withLock { $0 }.first { $0.contains(7) } ?? [])
        #expect(failedBatch.contains(7))
        for (item, result) in results {
            switch result {
            case .success(let outcome):
                #expect(!failedBatch.contains(item), "item \(item) succeeded though its batch failed")
                #expect(outcome == (item % 2 == 0))
            case .failure:
                #expect(failedBatch.contains(item), "item \(item) failed though its batch did not")
            }
        }
        // And the batcher still works afterwards.
        #expect(try await batcher.submit(1000) { try await recorder.send($0) })
    }
}
