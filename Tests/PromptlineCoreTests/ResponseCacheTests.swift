import PromptlineCore
import Synchronization
import Testing

@Suite struct ResponseCacheTests {
    /// Counts calls of a produce closure.
    final class Calls: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func next() -> Int { count.withLock { $0 += 1; return $0 } }
    }

    @Test func aKeptAnswerIsServedWithoutAnotherCall() async throws {
        let cache = ResponseCache(configuration: .init(ttl: .seconds(60)))
        let calls = Calls()
        var outcomes: [ResponseCache.Outcome] = []
        for _ in 0..<3 {
            let (value, outcome) = try await cache.answer(for: "k") { (.body(Array("answer \(calls.next())".utf8)), true) }
            #expect(value == .body(Array("answer 1".utf8)))
            outcomes.append(outcome)
        }
        #expect(calls.value == 1)
        #expect(outcomes == [.miss, .hit, .hit])
        let statistics = cache.statistics
        #expect(statistics.hits == 2 && statistics.misses == 1 && statistics.entries == 1)
    }

    @Test func keysAreExact() async throws {
        let cache = ResponseCache(configuration: .init(ttl: .seconds(60)))
        let calls = Calls()
        for key in ["a", "b", "a ", "A"] {
            _ = try await cache.answer(for: key) { (.body(Array(key.utf8)), true) }
            _ = calls.next()
        }
        #expect(cache.statistics.misses == 4)
        #expect(try await cache.answer(for: "a ") { (.body([]), true) }.value == .body(Array("a ".utf8)))
    }

    @Test func answersNotKeptAreNotServedAgain() async throws {
        let cache = ResponseCache(configuration: .init(ttl: .seconds(60)))
        let calls = Calls()
        for _ in 0..<3 {
            _ = try await cache.answer(for: "error") { _ = calls.next(); return (.body(Array("429".utf8)), false) }
        }
        #expect(calls.value == 3)
        #expect(cache.statistics.entries == 0)
    }

    @Test func identicalConcurrentRequestsMakeOneCall() async throws {
        let cache = ResponseCache(configuration: .init(ttl: .seconds(60)))
        let calls = Calls()
        let outcomes = try await withThrowingTaskGroup(of: ResponseCache.Outcome.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await cache.answer(for: "same") {
                        _ = calls.next()
                        try await Task.sleep(for: .milliseconds(200))
                        return (.body(Array("one".utf8)), true)
                    }.outcome
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(calls.value == 1)
        #expect(outcomes.filter { $0 == .miss }.count == 1)
        #expect(outcomes.allSatisfy { $0 != .bypass })
    }

    @Test func waitersOfAFailedCallMakeTheirOwn() async throws {
        struct Boom: Error {}
        let cache = ResponseCache(configuration: .init(ttl: .seconds(60)))
        let calls = Calls()
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    do {
                        _ = try await cache.answer(for: "flaky") {
                            let call = calls.next()
                            try await Task.sleep(for: .milliseconds(100))
                            if call == 1 { throw Boom() }
                            return (.body(Array("fine".utf8)), true)
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        // Only the caller whose call failed sees the error; the others got an answer.
        #expect(results.filter { !$0 }.count == 1)
        #expect(calls.value >= 2)
    }

    @Test func entriesExpire() async throws {
        let cache = ResponseCache(configuration: .init(ttl: .milliseconds(100)))
        let calls = Calls()
        _ = try await cache.answer(for: "k") { (.body(Array("\(calls.next())".utf8)), true) }
        try await Task.sleep(for: .milliseconds(250))
        let (value, outcome) = try await cache.answer(for: "k") { (.body(Array("\(calls.next())".utf8)), true) }
        #expect(outcome == .miss && value == .body(Array("2".utf8)))
    }

    @Test func theOldestEntriesGoWhenTheBudgetIsFull() async throws {
        let cache = ResponseCache(configuration: .init(ttl: .seconds(60), maxBytes: 100))
        for index in 0..<10 {
            _ = try await cache.answer(for: "k\(index)") { (.body(Array(repeating: UInt8(index), count: 30)), true) }
        }
        let statistics = cache.statistics
        #expect(statistics.bytes <= 100 && statistics.entries == 3)
        #expect(try await cache.answer(for: "k9") { (.body([]), true) }.outcome == .hit)
        #expect(try await cache.answer(for: "k0") { (.body([]), true) }.outcome == .miss)
    }

    @Test func aZeroLifetimeTurnsTheCacheOff() async throws {
        let cache = ResponseCache(configuration: .init(ttl: .zero))
        let calls = Calls()
        for _ in 0..<2 {
            #expect(try await cache.answer(for: "k") { (.body(Array("\(calls.next())".utf8)), true) }.outcome == .bypass)
        }
        #expect(calls.value == 2 && cache.statistics.bypassed == 2)
    }
}
