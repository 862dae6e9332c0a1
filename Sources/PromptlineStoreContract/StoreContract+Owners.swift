import Foundation
import PromptlineCore

extension StoreContract {
    static func ownersAreKeptAndCounted(_ stores: Stores) async throws {
        let store = try await stores.open()
        func owned(_ prompt: String, by owner: String?) -> NewTask {
            var task = newTask(prompt)
            task.owner = owner
            return task
        }
        let ids = try await enqueue(
            [owned("a1", by: "key-a"), owned("a2", by: "key-a"), owned("a3", by: "key-a"), owned("b1", by: "key-b"), owned("open", by: nil)],
            into: store
        )
        try checkEqual(try await record(ids[0], in: store).owner, "key-a", "owner of a task key-a submitted")
        try checkEqual(try await record(ids[3], in: store).owner, "key-b", "owner of a task key-b submitted")
        try checkEqual(try await record(ids[4], in: store).owner, nil, "owner of a task submitted without a key")
        try checkEqual(try await store.unfinishedCount(owner: "key-a"), 3, "key-a's unfinished tasks after enqueue")
        try checkEqual(try await store.unfinishedCount(owner: "key-b"), 1, "key-b's unfinished tasks after enqueue")
        try checkEqual(try await store.unfinishedCount(owner: "key-c"), 0, "unfinished tasks of a key that submitted nothing")

        // Claimed tasks are still unfinished; each way of finishing takes one away, and a
        // retry puts one back in the queue without changing the count.
        var claimed: [String: ClaimedTask] = [:]
        for task in try await store.claim(limit: 5, lease: .seconds(60)) { claimed[task.id] = task }
        try checkEqual(claimed.count, 5, "tasks claimed")
        try checkEqual(try await store.unfinishedCount(owner: "key-a"), 3, "key-a's unfinished tasks while processing")
        try check(try await store.complete(try unwrap(claimed[ids[0]], "claim of a1").lease, result: TaskResult(content: "ok")), "complete answered false")
        try checkEqual(try await store.unfinishedCount(owner: "key-a"), 2, "key-a's unfinished tasks after a complete")
        try check(try await store.retry(try unwrap(claimed[ids[1]], "claim of a2").lease, after: .zero, error: "again"), "retry answered false")
        try checkEqual(try await store.unfinishedCount(owner: "key-a"), 2, "key-a's unfinished tasks after a retry")
        try check(try await store.fail(try unwrap(claimed[ids[2]], "claim of a3").lease, error: "boom"), "fail answered false")
        try checkEqual(try await store.unfinishedCount(owner: "key-a"), 1, "key-a's unfinished tasks after a fail")
        try checkEqual(try await store.cancel(id: ids[1]), .cancelled, "cancel of a2")
        try checkEqual(try await store.unfinishedCount(owner: "key-a"), 0, "key-a's unfinished tasks after a cancel")
        try checkEqual(try await store.cancel(id: ids[1]), .alreadyFinished(.cancelled), "second cancel of a2")
        try checkEqual(try await store.unfinishedCount(owner: "key-a"), 0, "key-a's unfinished tasks after a second cancel")
        try checkEqual(try await store.unfinishedCount(owner: "key-b"), 1, "key-b's unfinished tasks, untouched by key-a's")
    }
}
