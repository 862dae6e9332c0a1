import Foundation
import PromptlineCore

extension StoreContract {
    /// Expiry is checked with half a second of slack on either side of each time to live.
    static func finishedTasksExpire(_ stores: Stores) async throws {
        let retention = RetentionPolicy(statusTTL: .seconds(1), resultTTL: .milliseconds(2_500))
        let store = try await stores.open(retention: retention)
        let ids = try await enqueue(
            [
                newTask("failed", priority: 5), newTask("completed", priority: 4), newTask("processing", priority: 3),
                newTask("queued"), newTask("cancelled"),
            ],
            into: store
        )
        let (failed, completed, processing, queued, cancelled) = (ids[0], ids[1], ids[2], ids[3], ids[4])
        let claimed = try await store.claim(limit: 3, lease: .seconds(60))
        try checkEqual(claimed.map(\.id), [failed, completed, processing], "tasks claimed")
        let started = ContinuousClock.now
        try check(try await store.fail(claimed[0].lease, error: "boom"), "fail answered false")
        try check(try await store.complete(claimed[1].lease, result: TaskResult(content: "ok")), "complete answered false")
        try checkEqual(try await store.cancel(id: cancelled), .cancelled, "cancel of a queued task")
        let finished = ContinuousClock.now
        // Each "still readable" check holds only while its time to live has surely not run
        // out since `started`; a loaded machine may get there too late, and then it is skipped.
        let justFinished = try await store.tasks(ids: ids).count
        if ContinuousClock.now < started + .milliseconds(900) {
            try checkEqual(justFinished, 5, "tasks readable right after finishing")
        }

        try await Task.sleep(until: finished + .milliseconds(1_500), clock: .continuous)
        let afterStatusTTL = try await store.tasks(ids: ids).mapValues(\.status)
        if ContinuousClock.now < started + .milliseconds(2_400) {
            try checkEqual(
                afterStatusTTL, [completed: .completed, processing: .processing, queued: .queued],
                "tasks readable 1.5 s after finishing (statusTTL 1 s, resultTTL 2.5 s)"
            )
        } else {
            try checkEqual(afterStatusTTL[failed], nil, "failed task 1.5 s after finishing (statusTTL 1 s)")
            try checkEqual(afterStatusTTL[cancelled], nil, "cancelled task 1.5 s after finishing (statusTTL 1 s)")
        }

        try await Task.sleep(until: finished + .milliseconds(3_000), clock: .continuous)
        let afterResultTTL = try await store.tasks(ids: ids).mapValues(\.status)
        try checkEqual(
            afterResultTTL, [processing: .processing, queued: .queued],
            "tasks readable 3 s after finishing (statusTTL 1 s, resultTTL 2.5 s)"
        )
        let purged = try await store.purgeExpired()
        try check(purged >= 3, "purgeExpired answered \(purged) with 3 expired tasks")
        try checkEqual(try await store.counts(), QueueCounts(queued: 1, processing: 1), "counts after purging")
        let survivors = try await store.tasks(ids: [processing, queued]).mapValues(\.status)
        try checkEqual(survivors, [processing: .processing, queued: .queued], "unfinished tasks after purging")
        try check(try await store.complete(claimed[2].lease, result: TaskResult(content: "late but fine")), "complete of a long-running task answered false")
    }
}
