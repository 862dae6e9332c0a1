import Foundation
import PromptlineCore

extension StoreContract {
    static func cancelAnswersByState(_ stores: Stores) async throws {
        let store = try await stores.open()
        let ids = try await enqueue(
            [newTask("processing", priority: 2), newTask("completed", priority: 1), newTask("queued")],
            into: store
        )
        let (processing, completed, queued) = (ids[0], ids[1], ids[2])
        let claimed = try await store.claim(limit: 2, lease: .seconds(60))
        try checkEqual(claimed.map(\.id), [processing, completed], "tasks claimed")
        try check(try await store.complete(claimed[1].lease, result: TaskResult(content: "done")), "complete answered false")

        try checkEqual(try await store.cancel(id: queued), .cancelled, "cancel of a queued task")
        try checkEqual(try await record(queued, in: store).status, .cancelled, "status of a cancelled queued task")
        try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).count, 0, "tasks claimable after the queued one was cancelled")

        try checkEqual(try await store.cancel(id: processing), .cancelled, "cancel of a processing task")
        try checkEqual(try await record(processing, in: store).status, .cancelled, "status of a cancelled processing task")
        let lease = claimed[0].lease
        try check(!(try await store.complete(lease, result: TaskResult(content: "late"))), "complete after cancel answered true")
        try check(!(try await store.fail(lease, error: "late")), "fail after cancel answered true")
        try check(!(try await store.retry(lease, after: .zero, error: "late")), "retry after cancel answered true")
        try check(!(try await store.reportProgress(lease, percent: 50)), "reportProgress after cancel answered true")
        try checkEqual(try await store.renew([lease], lease: .seconds(60)), [], "renew after cancel")
        let cancelled = try await record(processing, in: store)
        try checkEqual(cancelled.status, .cancelled, "status after the worker's late calls")
        try check(cancelled.result == nil, "a cancelled task got result \(cancelled.result ?? "")")
        try check(cancelled.finishedAt != nil, "a cancelled task has no finishedAt")

        try checkEqual(try await store.cancel(id: completed), .alreadyFinished(.completed), "cancel of a completed task")
        try checkEqual(try await record(completed, in: store).status, .completed, "status of a completed task after cancel")
        try checkEqual(try await store.cancel(id: queued), .alreadyFinished(.cancelled), "a second cancel")
        try checkEqual(try await store.cancel(id: "no-such-task"), .notFound, "cancel of an unknown task")
        try checkEqual(try await store.counts(), QueueCounts(completed: 1, cancelled: 2), "counts after the cancellations")
    }
}
