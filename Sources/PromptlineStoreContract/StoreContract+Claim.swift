import Foundation
import PromptlineCore

extension StoreContract {
    static func claimTakesPriorityThenOldest(_ stores: Stores) async throws {
        let store = try await stores.open()
        let a = newTask("a", priority: 0), b = newTask("b", priority: 5), c = newTask("c", priority: 0)
        let d = newTask("d", priority: 5), e = newTask("e", priority: 10), f = newTask("f", priority: 0)
        _ = try await enqueue([a, b, c], into: store)
        _ = try await enqueue([d, e, f], into: store)
        let names = [a.id: "a", b.id: "b", c.id: "c", d.id: "d", e.id: "e", f.id: "f"]
        func named(_ claimed: [ClaimedTask]) -> [String] { claimed.map { names[$0.id] ?? $0.id } }

        let before = Date()
        let first = try await store.claim(limit: 2, lease: .seconds(60))
        try checkEqual(named(first), ["e", "b"], "first claim with limit 2")
        let second = try await store.claim(limit: 3, lease: .seconds(60))
        try checkEqual(named(second), ["d", "a", "c"], "second claim with limit 3")
        let third = try await store.claim(limit: 10, lease: .seconds(60))
        try checkEqual(named(third), ["f"], "third claim with limit 10")
        let fourth = try await store.claim(limit: 10, lease: .seconds(60))
        try checkEqual(named(fourth), [], "claim once every task is taken")

        let requests = Dictionary(uniqueKeysWithValues: [a, b, c, d, e, f].map { ($0.id, $0.request) })
        let claimed = first + second + third
        let records = try await store.tasks(ids: claimed.map(\.id))
        for task in claimed {
            try checkEqual(task.attempt, 1, "attempt of a first claim of \(names[task.id]!)")
            try checkEqual(task.request, requests[task.id], "claimed request of \(names[task.id]!)")
            let record = try unwrap(records[task.id], "claimed task \(names[task.id]!) is absent")
            try checkEqual(record.status, .processing, "status of claimed task \(names[task.id]!)")
            try checkEqual(record.attempts, 1, "attempts of claimed task \(names[task.id]!)")
            let startedAt = try unwrap(record.startedAt, "claimed task \(names[task.id]!) has no startedAt")
            try check(startedAt >= before.addingTimeInterval(-1), "startedAt \(startedAt) is before the claim (\(before))")
        }
    }

    static func claimOnEmptyQueueAnswersNothing(_ stores: Stores) async throws {
        let store = try await stores.open()
        try checkEqual(try await store.claim(limit: 1, lease: .seconds(60)).count, 0, "claim(limit: 1) on an empty store")
        try checkEqual(try await store.claim(limit: 100, lease: .seconds(60)).count, 0, "claim(limit: 100) on an empty store")
        try checkEqual(try await store.counts(), QueueCounts(), "counts of an empty store after claims")
    }

    static func concurrentClaimersShareWithoutOverlap(_ stores: Stores) async throws {
        let store = try await stores.open()
        let batch = (0..<200).map { newTask("task \($0)", priority: $0 % 3) }
        let ids = try await enqueue(batch, into: store)
        let limits = [1, 2, 3, 5, 7, 8, 13, 16]
        let handedOut = try await withThrowingTaskGroup(of: [String].self) { group in
            for limit in limits {
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let claimed = try await store.claim(limit: limit, lease: .seconds(60))
                        try check(claimed.count <= limit, "claim(limit: \(limit)) answered \(claimed.count) tasks")
                        if claimed.isEmpty { return mine }
                        mine += claimed.map(\.id)
                    }
                }
            }
            var all: [String] = []
            for try await mine in group { all += mine }
            return all
        }
        try checkEqual(handedOut.count, ids.count, "tasks handed out in total by \(limits.count) concurrent claimers")
        try checkEqual(Set(handedOut), Set(ids), "set of tasks handed out")
        try checkEqual(try await store.counts(), QueueCounts(processing: ids.count), "counts after every task is claimed")
    }
}
