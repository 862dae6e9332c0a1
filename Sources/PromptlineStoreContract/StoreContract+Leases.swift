import Foundation
import PromptlineCore

extension StoreContract {
    static func completeWithCurrentLease(_ stores: Stores) async throws {
        let store = try await stores.open()
        let id = try await enqueue([newTask("complete me")], into: store)[0]
        let claimed = try await claimOne(from: store)
        let usage = TokenUsage(promptTokens: 11, completionTokens: 22, totalTokens: 33)
        let result = TaskResult(content: "echo: complete me ✓", usage: usage, model: "contract-model-0613")

        try check(try await store.complete(claimed.lease, result: result), "complete with the current lease answered false")
        let record = try await self.record(id, in: store)
        try checkEqual(record.status, .completed, "status after complete")
        try checkEqual(record.result, result.content, "result after complete")
        try checkEqual(record.usage, usage, "usage after complete")
        try checkEqual(record.progress, 100, "progress after complete")
        try check(record.finishedAt != nil, "a completed task has no finishedAt")
        try check(record.error == nil, "a completed task has error \(record.error ?? "")")

        let other = TaskResult(content: "second answer", usage: nil, model: nil)
        try check(!(try await store.complete(claimed.lease, result: other)), "a second complete answered true")
        try check(!(try await store.fail(claimed.lease, error: "late failure")), "fail after complete answered true")
        let after = try await self.record(id, in: store)
        try checkEqual(after, record, "record after a second complete and a late fail")
    }

    static func staleLeaseIsFenced(_ stores: Stores) async throws {
        let store = try await stores.open()
        let id = try await enqueue([newTask("fenced")], into: store)[0]
        let stale = try await claimOne(from: store, lease: .milliseconds(200))
        try await Task.sleep(for: .milliseconds(600))
        let reclaimed = try await store.reclaimExpiredLeases(maxAttempts: 5)
        try check(reclaimed >= 1, "reclaimExpiredLeases answered \(reclaimed) after the only lease ran out")
        try checkEqual(try await record(id, in: store).status, .queued, "status after the lease was reclaimed")

        let current = try await claimOne(from: store)
        try check(current.lease.token != stale.lease.token, "the new claim reused the fencing token \(stale.lease.token)")
        try checkEqual(current.attempt, 2, "attempt of the second delivery")
        let before = try await record(id, in: store)
        try checkEqual(before.status, .processing, "status after the second claim")

        let staleLease = stale.lease
        try check(!(try await store.complete(staleLease, result: TaskResult(content: "late"))), "complete with a stale lease answered true")
        try check(!(try await store.fail(staleLease, error: "late")), "fail with a stale lease answered true")
        try check(!(try await store.retry(staleLease, after: .zero, error: "late")), "retry with a stale lease answered true")
        try check(!(try await store.reportProgress(staleLease, percent: 50)), "reportProgress with a stale lease answered true")
        let renewed = try await store.renew([staleLease], lease: .seconds(60))
        try check(renewed.isEmpty, "renew with a stale lease answered \(renewed)")
        try checkEqual(try await store.release([staleLease]), 0, "tasks released with a stale lease")
        let untouched = try await record(id, in: store)
        try checkEqual(untouched, before, "record after every stale-lease call")
        try checkEqual(try await store.claim(limit: 1, lease: .seconds(60)).count, 0, "tasks claimable while the new lease holds the task")

        try check(try await store.complete(current.lease, result: TaskResult(content: "fresh")), "complete with the new lease answered false")
        let done = try await record(id, in: store)
        try checkEqual(done.status, .completed, "status after completing with the new lease")
        try checkEqual(done.result, "fresh", "result after completing with the new lease")
    }

    static func renewExtendsHeldLeases(_ stores: Stores) async throws {
        let store = try await stores.open()
        let ids = try await enqueue([newTask("renewed", priority: 1), newTask("left to expire")], into: store)
        let claimed = try await store.claim(limit: 2, lease: .milliseconds(500))
        // Taken once the claim has returned: the leases surely started before, however long
        // a loaded machine took to carry the claim out.
        let claimedAt = ContinuousClock.now
        try checkEqual(claimed.map(\.id), ids, "tasks claimed")
        let (renewed, expiring) = (claimed[0], claimed[1])

        try checkEqual(try await store.renew([renewed.lease], lease: .seconds(60)), [renewed.id], "ids answered by renew of a held lease")
        try await Task.sleep(until: claimedAt + .milliseconds(1_100), clock: .continuous)
        try checkEqual(try await store.reclaimExpiredLeases(maxAttempts: 5), 1, "leases reclaimed (only the one not renewed)")
        try checkEqual(try await record(renewed.id, in: store).status, .processing, "status of the renewed task")
        try checkEqual(try await record(expiring.id, in: store).status, .queued, "status of the task whose lease ran out")

        let held = try await store.renew([renewed.lease, expiring.lease], lease: .seconds(60))
        try checkEqual(held, [renewed.id], "ids answered by renew of a held and a stale lease")
        try check(try await store.complete(renewed.lease, result: TaskResult(content: "done")), "complete after renewing answered false")
        let afterFinish = try await store.renew([renewed.lease], lease: .seconds(60))
        try check(afterFinish.isEmpty, "renew of a finished task's lease answered \(afterFinish)")
    }

    static func retryWaitsForItsDelay(_ stores: Stores) async throws {
        let store = try await stores.open()
        let id = try await enqueue([newTask("retry me")], into: store)[0]
        let first = try await claimOne(from: store)
        try checkEqual(first.attempt, 1, "attempt of the first delivery")
        let cause = "rate limited (429): slow down"
        let retriedAt = ContinuousClock.now
        try check(try await store.retry(first.lease, after: .seconds(1), error: cause), "retry with the current lease answered false")
        // The delay starts somewhere between the call and its answer.
        let retryAnswered = ContinuousClock.now
        let waiting = try await record(id, in: store)
        try checkEqual(waiting.status, .queued, "status while waiting for a retry")
        try checkEqual(waiting.error, cause, "error while waiting for a retry")
        try check(waiting.finishedAt == nil, "a task waiting for a retry has finishedAt set")
        try check(!(try await store.retry(first.lease, after: .zero, error: "again")), "a second retry with the same lease answered true")

        // "Not before the delay" can only be checked while the delay has surely not passed
        // (a loaded machine may take longer than that to get here).
        let early = try await store.claim(limit: 1, lease: .seconds(60))
        if ContinuousClock.now < retriedAt + .milliseconds(900) {
            try checkEqual(early.count, 0, "tasks claimable less than 0.9 s into a 1 s retry delay")
        }
        if early.isEmpty {
            try await Task.sleep(until: retryAnswered + .milliseconds(1_400), clock: .continuous)
        } else {
            try check(try await store.release(early.map(\.lease)) == 1, "release of the early claim answered otherwise than 1")
        }
        let second = try await claimOne(from: store)
        try checkEqual(second.id, id, "task claimed after the retry delay")
        try checkEqual(second.attempt, 2, "attempt of the delivery after a retry")
        try check(second.lease.token != first.lease.token, "the claim after a retry reused the fencing token")
        try checkEqual(try await record(id, in: store).attempts, 2, "attempts after the second claim")
    }

    static func failRecordsTheCause(_ stores: Stores) async throws {
        let store = try await stores.open()
        let id = try await enqueue([newTask("fail me")], into: store)[0]
        let claimed = try await claimOne(from: store)
        let cause = "upstream status 400: model 'nope' does not exist"
        try check(try await store.fail(claimed.lease, error: cause), "fail with the current lease answered false")
        let failed = try await record(id, in: store)
        try checkEqual(failed.status, .error, "status after fail")
        try checkEqual(failed.error, cause, "error after fail")
        try check(failed.result == nil, "a failed task has result \(failed.result ?? "")")
        try check(failed.finishedAt != nil, "a failed task has no finishedAt")

        try check(!(try await store.complete(claimed.lease, result: TaskResult(content: "late"))), "complete after fail answered true")
        try check(!(try await store.retry(claimed.lease, after: .zero, error: "late")), "retry after fail answered true")
        try check(!(try await store.fail(claimed.lease, error: "another cause")), "a second fail answered true")
        try checkEqual(try await record(id, in: store), failed, "record after calls on a failed task")
        try checkEqual(try await store.claim(limit: 1, lease: .seconds(60)).count, 0, "tasks claimable after the only one failed")
    }

    static func releaseDoesNotCountTheAttempt(_ stores: Stores) async throws {
        let store = try await stores.open()
        let ids = try await enqueue([newTask("a", priority: 1), newTask("b")], into: store)
        let first = try await store.claim(limit: 2, lease: .seconds(60))
        try checkEqual(first.map(\.id), ids, "tasks claimed")
        try checkEqual(try await store.release(first.map(\.lease)), 2, "tasks released")
        let statuses = try await store.tasks(ids: ids).mapValues(\.status)
        try checkEqual(statuses, [ids[0]: .queued, ids[1]: .queued], "statuses after release")

        let second = try await store.claim(limit: 2, lease: .seconds(60))
        try checkEqual(second.map(\.id), ids, "tasks claimed again at once after release")
        try checkEqual(second.map(\.attempt), [1, 1], "attempts of the claim after a release of attempt 1")
        try check(!(try await store.complete(first[0].lease, result: TaskResult(content: "late"))), "complete with a released lease answered true")

        // A counted attempt (retry) followed by a release: the next delivery is still attempt 2.
        try check(try await store.retry(second[0].lease, after: .zero, error: "timed out"), "retry answered false")
        let third = try await claimOne(from: store)
        try checkEqual(third.attempt, 2, "attempt after a retry")
        try checkEqual(try await store.release([third.lease, first[1].lease]), 1, "tasks released (one current, one stale lease)")
        let fourth = try await claimOne(from: store)
        try checkEqual(fourth.id, ids[0], "task claimed after the second release")
        try checkEqual(fourth.attempt, 2, "attempt after releasing attempt 2")
    }

    static func deadLettersAfterMaxAttempts(_ stores: Stores) async throws {
        let store = try await stores.open()
        let ids = try await enqueue([newTask("poison", priority: 10), newTask("healthy")], into: store)
        let (poison, healthy) = (ids[0], ids[1])
        let maxAttempts = 3
        for delivery in 1...maxAttempts {
            let claimed = try await claimOne(from: store, lease: .milliseconds(150))
            try checkEqual(claimed.id, poison, "task claimed in delivery \(delivery)")
            try checkEqual(claimed.attempt, delivery, "attempt of delivery \(delivery)")
            try await Task.sleep(for: .milliseconds(450))
            try checkEqual(try await store.reclaimExpiredLeases(maxAttempts: maxAttempts), 1, "leases reclaimed after delivery \(delivery)")
            let record = try await record(poison, in: store)
            if delivery < maxAttempts {
                try checkEqual(record.status, .queued, "status after \(delivery) of \(maxAttempts) deliveries ran out")
            } else {
                try checkEqual(record.status, .error, "status after \(maxAttempts) of \(maxAttempts) deliveries ran out")
                let message = record.error ?? ""
                try check(message.lowercased().contains("dead"), "a dead letter's error should mention \"dead\", got \"\(message)\"")
            }
        }
        try checkEqual(try await store.counts(), QueueCounts(queued: 1, error: 1), "counts after the dead letter")
        let next = try await claimOne(from: store)
        try checkEqual(next.id, healthy, "task claimed after the dead letter")
        try checkEqual(next.attempt, 1, "attempt of the healthy task")
        try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).count, 0, "tasks claimable once the healthy one is taken")
    }

    static func reportProgressOnCurrentLeaseOnly(_ stores: Stores) async throws {
        let store = try await stores.open()
        let ids = try await enqueue([newTask("in flight", priority: 1), newTask("still queued")], into: store)
        let claimed = try await claimOne(from: store)
        try checkEqual(claimed.id, ids[0], "task claimed")

        try check(try await store.reportProgress(claimed.lease, percent: 40), "reportProgress with the current lease answered false")
        try checkEqual(try await record(ids[0], in: store).progress, 40, "progress after reporting 40")
        try check(try await store.reportProgress(claimed.lease, percent: 65), "a second reportProgress answered false")
        try checkEqual(try await record(ids[0], in: store).progress, 65, "progress after reporting 65")

        let forged = TaskLease(id: claimed.id, token: claimed.lease.token &+ 1_000_003)
        try check(!(try await store.reportProgress(forged, percent: 90)), "reportProgress with a token never issued answered true")
        let queuedLease = TaskLease(id: ids[1], token: claimed.lease.token)
        try check(!(try await store.reportProgress(queuedLease, percent: 90)), "reportProgress on a queued task answered true")
        try check(!(try await store.reportProgress(TaskLease(id: "no-such-task", token: 1), percent: 90)), "reportProgress on an unknown task answered true")
        try checkEqual(try await record(ids[0], in: store).progress, 65, "progress after rejected reports")
        try checkEqual(try await record(ids[1], in: store).progress, 0, "progress of the queued task")

        try check(try await store.complete(claimed.lease, result: TaskResult(content: "done")), "complete answered false")
        try check(!(try await store.reportProgress(claimed.lease, percent: 50)), "reportProgress after complete answered true")
        try checkEqual(try await record(ids[0], in: store).progress, 100, "progress of a completed task after a late report")
    }
}
