import Foundation
import PromptlineCore

/// The flow cases: a parent waits for its children (``FlowStore``).
extension StoreContract {
    static func flowParentWaitsForItsChildren(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let parent = newTask("combine", priority: 9)
        let children = (1...3).map { newTask("part \($0)") }
        let ids = try await enqueueFlow(NewFlow(parent: parent, children: children), into: store)
        try checkEqual(try await store.counts(), QueueCounts(queued: 4), "counts of a waiting parent and three children")
        try checkEqual(try await record(parent.id, in: store).status, .queued, "status of a waiting parent")
        try checkEqual(
            try await store.flow(parentID: parent.id),
            FlowState(childIDs: Array(ids.dropFirst()), pending: 3, failedChildren: [:], policy: .fail),
            "flow after enqueue")

        let claimed = try await store.claim(limit: 10, lease: .seconds(60))
        try checkEqual(claimed.map(\.id), children.map(\.id), "tasks claimable while the parent waits (the parent's higher priority notwithstanding)")
        // A child put back in the queue has not finished: the parent goes on waiting.
        try check(try await store.retry(claimed[0].lease, after: .zero, error: "try again"), "retry of a child answered false")
        try checkEqual(try await store.release([claimed[1].lease]), 1, "children released")
        try checkEqual(try await flowState(parent.id, in: store).pending, 3, "pending after a retry and a release")
        let again = try await store.claim(limit: 10, lease: .seconds(60))
        try checkEqual(Set(again.map(\.id)), Set(children.prefix(2).map(\.id)), "children claimed again")
        let leases = Dictionary(uniqueKeysWithValues: (again + claimed.suffix(1)).map { ($0.id, $0.lease) })

        for (index, child) in children.enumerated() {
            try check(
                try await store.complete(leases[child.id]!, result: TaskResult(content: "summary \(index + 1)")),
                "complete of child \(index + 1) answered false")
            let state = try await flowState(parent.id, in: store)
            try checkEqual(state.pending, 2 - index, "pending after \(index + 1) of 3 children completed")
            if index < 2 {
                try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).count, 0, "tasks claimable after \(index + 1) of 3 children completed")
            }
        }
        let claimedParent = try await claimOne(from: store)
        try checkEqual(claimedParent.id, parent.id, "task claimable once every child completed")
        try checkEqual(claimedParent.attempt, 1, "attempt of the parent")
        let state = try await flowState(parent.id, in: store)
        let results = try await store.tasks(ids: state.childIDs).mapValues { $0.result ?? "" }
        try checkEqual(
            results, Dictionary(uniqueKeysWithValues: children.enumerated().map { ($1.id, "summary \($0 + 1)") }),
            "children's results as the parent reads them")
        try check(try await store.complete(claimedParent.lease, result: TaskResult(content: "whole")), "complete of the parent answered false")
        try checkEqual(try await store.counts(), QueueCounts(completed: 4), "counts once the flow is done")
        try checkEqual(try await store.flow(parentID: children[0].id), nil, "flow of a task that is no parent")
        try checkEqual(try await store.flow(parentID: "no-such-task"), nil, "flow of an unknown task")
    }

    static func flowWithNoChildrenIsClaimableAtOnce(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let parent = newTask("alone")
        _ = try await enqueueFlow(NewFlow(parent: parent, children: []), into: store)
        try checkEqual(
            try await store.flow(parentID: parent.id),
            FlowState(childIDs: [], pending: 0, failedChildren: [:], policy: .fail), "flow with no children")
        try checkEqual(try await claimOne(from: store).id, parent.id, "task claimed")
    }

    static func flowChildFailureFailsTheParent(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let parent = newTask("combine")
        let children = (1...3).map { newTask("part \($0)") }
        _ = try await enqueueFlow(NewFlow(parent: parent, children: children, onChildFailure: .fail), into: store)
        let claimed = try await store.claim(limit: 2, lease: .seconds(60))
        try checkEqual(claimed.map(\.id), children.prefix(2).map(\.id), "children claimed")

        try check(try await store.fail(claimed[0].lease, error: "upstream said no"), "fail of a child answered false")
        let failed = try await record(parent.id, in: store)
        try checkEqual(failed.status, .error, "status of the parent once a child failed")
        let message = failed.error ?? ""
        try check(
            message.contains(children[0].id) && message.contains("upstream said no"),
            "the parent's error should name the child \(children[0].id) and its cause, got \"\(message)\"")
        try check(failed.finishedAt != nil, "a failed parent has no finishedAt")
        let siblings = try await store.tasks(ids: children.map(\.id)).mapValues(\.status)
        try checkEqual(
            siblings, [children[0].id: .error, children[1].id: .cancelled, children[2].id: .cancelled],
            "children once one failed (the running and the queued sibling cancelled)")
        try check(!(try await store.complete(claimed[1].lease, result: TaskResult(content: "late"))), "complete of a cancelled sibling answered true")
        try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).count, 0, "tasks claimable once the flow failed")
        try checkEqual(try await store.counts(), QueueCounts(error: 2, cancelled: 2), "counts once the flow failed")
        try checkEqual(try await flowState(parent.id, in: store).pending, 0, "pending once the flow failed")
    }

    static func flowChildFailureUnderContinue(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let parent = newTask("combine")
        let children = (1...3).map { newTask("part \($0)") }
        _ = try await enqueueFlow(NewFlow(parent: parent, children: children, onChildFailure: .continue), into: store)
        let claimed = try await store.claim(limit: 10, lease: .seconds(60))
        try checkEqual(claimed.map(\.id), children.map(\.id), "children claimed")

        try check(try await store.fail(claimed[1].lease, error: "unreadable chunk"), "fail of a child answered false")
        try checkEqual(try await record(parent.id, in: store).status, .queued, "status of the parent after a child failed")
        try checkEqual(try await record(children[2].id, in: store).status, .processing, "status of a sibling after a child failed")
        try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).count, 0, "tasks claimable while two children run")
        try check(try await store.complete(claimed[0].lease, result: TaskResult(content: "one")), "complete of child 1 answered false")
        try check(try await store.complete(claimed[2].lease, result: TaskResult(content: "three")), "complete of child 3 answered false")

        try checkEqual(try await claimOne(from: store).id, parent.id, "task claimable once every child finished")
        try checkEqual(
            try await store.flow(parentID: parent.id),
            FlowState(childIDs: children.map(\.id), pending: 0, failedChildren: [children[1].id: "unreadable chunk"], policy: .continue),
            "flow once every child finished")
    }

    static func flowCancelledChildCountsAsFailed(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let strict = newTask("strict"), lenient = newTask("lenient")
        let strictChildren = (1...2).map { newTask("strict \($0)") }
        let lenientChildren = (1...2).map { newTask("lenient \($0)") }
        _ = try await enqueueFlow(NewFlow(parent: strict, children: strictChildren, onChildFailure: .fail), into: store)
        _ = try await enqueueFlow(NewFlow(parent: lenient, children: lenientChildren, onChildFailure: .continue), into: store)

        try checkEqual(try await store.cancel(id: strictChildren[0].id), .cancelled, "cancel of a child under fail")
        let failed = try await record(strict.id, in: store)
        try checkEqual(failed.status, .error, "status of the parent once a child was cancelled under fail")
        try check(
            (failed.error ?? "").contains(strictChildren[0].id) && (failed.error ?? "").contains("cancelled"),
            "the parent's error should name the cancelled child, got \"\(failed.error ?? "")\"")
        try checkEqual(try await record(strictChildren[1].id, in: store).status, .cancelled, "status of the sibling under fail")

        try checkEqual(try await store.cancel(id: lenientChildren[0].id), .cancelled, "cancel of a child under continue")
        try checkEqual(try await record(lenient.id, in: store).status, .queued, "status of the parent under continue")
        let sibling = try await claimOne(from: store)
        try checkEqual(sibling.id, lenientChildren[1].id, "task claimed")
        try check(try await store.complete(sibling.lease, result: TaskResult(content: "done")), "complete of the sibling answered false")
        try checkEqual(try await claimOne(from: store).id, lenient.id, "task claimable once the sibling completed")
        try checkEqual(
            try await flowState(lenient.id, in: store).failedChildren, [lenientChildren[0].id: "cancelled"],
            "failed children under continue")
    }

    static func flowDeadLetteredChild(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let parent = newTask("combine")
        let children = [newTask("poison", priority: 1), newTask("healthy")]
        _ = try await enqueueFlow(NewFlow(parent: parent, children: children, onChildFailure: .fail), into: store)
        let maxAttempts = 2
        for delivery in 1...maxAttempts {
            let claimed = try await claimOne(from: store, lease: .milliseconds(150))
            try checkEqual(claimed.id, children[0].id, "task claimed in delivery \(delivery)")
            try await Task.sleep(for: .milliseconds(450))
            try checkEqual(try await store.reclaimExpiredLeases(maxAttempts: maxAttempts), 1, "leases reclaimed after delivery \(delivery)")
            if delivery < maxAttempts {
                // Back in the queue: not finished, so the parent goes on waiting.
                try checkEqual(try await record(parent.id, in: store).status, .queued, "status of the parent after a reclaim")
                try checkEqual(try await flowState(parent.id, in: store).pending, 2, "pending after a reclaim")
            }
        }
        let failed = try await record(parent.id, in: store)
        try checkEqual(failed.status, .error, "status of the parent once a child was dead-lettered")
        try check(
            (failed.error ?? "").contains(children[0].id) && (failed.error ?? "").contains("dead"),
            "the parent's error should name the dead letter and say why, got \"\(failed.error ?? "")\"")
        try checkEqual(try await record(children[1].id, in: store).status, .cancelled, "status of the sibling")
        try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).count, 0, "tasks claimable once the flow failed")
    }

    static func flowCancelOfTheParentCancelsItsChildren(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let parent = newTask("combine")
        let children = (1...4).map { newTask("part \($0)") }
        let other = newTask("someone else's")
        _ = try await enqueueFlow(NewFlow(parent: parent, children: children, onChildFailure: .continue, maxParallel: 2), into: store)
        _ = try await enqueue([other], into: store)
        let claimed = try await store.claim(limit: 2, lease: .seconds(60))
        try checkEqual(claimed.map(\.id), children.prefix(2).map(\.id), "children claimed")
        try check(try await store.complete(claimed[0].lease, result: TaskResult(content: "one")), "complete of child 1 answered false")
        // Now child 2 runs, child 3 is queued and child 4 is held back.

        try checkEqual(try await store.cancel(id: parent.id), .cancelled, "cancel of the waiting parent")
        let statuses = try await store.tasks(ids: [parent.id] + children.map(\.id)).mapValues(\.status)
        try checkEqual(
            statuses,
            [parent.id: .cancelled, children[0].id: .completed, children[1].id: .cancelled, children[2].id: .cancelled, children[3].id: .cancelled],
            "the flow once its parent was cancelled")
        try check(!(try await store.complete(claimed[1].lease, result: TaskResult(content: "late"))), "complete of a cancelled running child answered true")
        try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).map(\.id), [other.id], "tasks claimable once the flow was cancelled")
        try checkEqual(try await store.counts(), QueueCounts(processing: 1, completed: 1, cancelled: 4), "counts once the flow was cancelled")
        try checkEqual(try await store.cancel(id: parent.id), .alreadyFinished(.cancelled), "a second cancel of the parent")
    }

    static func flowMaxParallelHoldsChildrenBack(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let parent = newTask("combine")
        let children = (0..<6).map { newTask("part \($0)") }
        let other = newTask("other work")
        _ = try await enqueueFlow(NewFlow(parent: parent, children: children, onChildFailure: .continue, maxParallel: 2), into: store)
        _ = try await enqueue([other], into: store)
        try checkEqual(try await store.counts(), QueueCounts(queued: 8), "counts with held children")
        let c = children.map(\.id)
        func claimAll() async throws -> [String: TaskLease] {
            Dictionary(uniqueKeysWithValues: try await store.claim(limit: 10, lease: .seconds(60)).map { ($0.id, $0.lease) })
        }

        var leases = try await claimAll()
        try checkEqual(Set(leases.keys), [c[0], c[1], other.id], "first claim: two children and the other work")
        try checkEqual(try await claimAll().count, 0, "tasks claimable while two children run")
        try check(try await store.complete(leases[c[0]]!, result: TaskResult(content: "0")), "complete of child 0 answered false")
        leases.merge(try await claimAll()) { $1 }
        try checkEqual(Set(leases.keys), [c[0], c[1], c[2], other.id], "tasks claimed once child 0 completed (child 2 released)")
        try check(try await store.fail(leases[c[1]]!, error: "bad chunk"), "fail of child 1 answered false")
        let afterFailure = try await claimAll()
        try checkEqual(Array(afterFailure.keys), [c[3]], "tasks claimed once child 1 failed (child 3 released)")
        leases.merge(afterFailure) { $1 }

        // Back to the queue is not finished: nothing more is released.
        try check(try await store.retry(leases[c[2]]!, after: .zero, error: "try again"), "retry of child 2 answered false")
        let retried = try await claimAll()
        try checkEqual(Array(retried.keys), [c[2]], "tasks claimed after child 2 was retried")
        leases.merge(retried) { $1 }
        try checkEqual(try await store.release([leases[c[3]]!]), 1, "children released")
        let released = try await claimAll()
        try checkEqual(Array(released.keys), [c[3]], "tasks claimed after child 3 was released")
        leases.merge(released) { $1 }
        try checkEqual(try await flowState(parent.id, in: store).pending, 4, "pending with two children running and two held")

        for id in [c[2], c[3]] {
            try check(try await store.complete(leases[id]!, result: TaskResult(content: id)), "complete of a child answered false")
        }
        let last = try await claimAll()
        try checkEqual(Set(last.keys), [c[4], c[5]], "tasks claimed once children 2 and 3 completed")
        for (_, lease) in last {
            try check(try await store.complete(lease, result: TaskResult(content: "last")), "complete of a last child answered false")
        }
        try checkEqual(Array(try await claimAll().keys), [parent.id], "tasks claimable once every child finished")
        try checkEqual(try await flowState(parent.id, in: store).failedChildren, [c[1]: "bad chunk"], "failed children")
    }

    /// A child that became a parent itself waits, and still counts as running for its
    /// parent's `maxParallel`: a sibling's end must not release it before its own children end.
    static func flowMaxParallelCountsAWaitingChildAsRunning(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let parent = newTask("summary")
        let children = (0..<3).map { newTask("document \($0)") }
        _ = try await enqueueFlow(NewFlow(parent: parent, children: children, onChildFailure: .fail, maxParallel: 2), into: store)
        let first = try await store.claim(limit: 10, lease: .seconds(60))
        try checkEqual(Set(first.map(\.id)), [children[0].id, children[1].id], "first claim: two children")
        let waiting = first.first { $0.id == children[0].id }!
        let sibling = first.first { $0.id == children[1].id }!
        let grandchild = newTask("chunk")
        try check(try await store.addChildren(waiting.lease, children: [grandchild], maxParallel: nil), "addChildren answered false")
        try check(try await store.complete(sibling.lease, result: TaskResult(content: "done")), "complete of child 1 answered false")
        let next = try await store.claim(limit: 10, lease: .seconds(60))
        try checkEqual(Set(next.map(\.id)), [grandchild.id, children[2].id], "claimed once child 1 completed: the held child and the grandchild, not the waiting child")
        let chunk = next.first { $0.id == grandchild.id }!
        try check(try await store.complete(chunk.lease, result: TaskResult(content: "chunk")), "complete of the grandchild answered false")
        try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).map(\.id), [children[0].id], "claimed once the grandchild completed")
    }

    static func flowAddChildrenStartsANewLevel(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let parent = newTask("reduce")
        let maps = (1...2).map { newTask("map \($0)") }
        _ = try await enqueueFlow(NewFlow(parent: parent, children: maps, onChildFailure: .continue), into: store)
        for claimed in try await store.claim(limit: 10, lease: .seconds(60)) {
            try check(try await store.complete(claimed.lease, result: TaskResult(content: "mapped")), "complete of a map child answered false")
        }
        let first = try await claimOne(from: store)
        try checkEqual(first.id, parent.id, "task claimed once the maps completed")

        let reduces = (1...3).map { newTask("reduce \($0)") }
        try check(try await store.addChildren(first.lease, children: reduces, maxParallel: 2), "addChildren with the current lease answered false")
        let waiting = try await record(parent.id, in: store)
        try checkEqual(waiting.status, .queued, "status of the parent waiting on its second level")
        let expected = FlowState(childIDs: (maps + reduces).map(\.id), pending: 3, failedChildren: [:], policy: .continue)
        try checkEqual(try await store.flow(parentID: parent.id), expected, "flow with a second level")

        let late = [newTask("late level")]
        try check(!(try await store.addChildren(first.lease, children: late, maxParallel: nil)), "addChildren with a stale lease answered true")
        try check(!(try await store.complete(first.lease, result: TaskResult(content: "late"))), "complete with the lease of the first level answered true")
        try checkEqual(try await store.flow(parentID: parent.id), expected, "flow after a stale addChildren")
        try checkEqual(try await store.tasks(ids: [late[0].id]).count, 0, "tasks stored by a stale addChildren")

        let claimed = try await store.claim(limit: 10, lease: .seconds(60))
        try checkEqual(claimed.map(\.id), reduces.prefix(2).map(\.id), "tasks claimed on the second level (maxParallel 2)")
        try check(try await store.complete(claimed[0].lease, result: TaskResult(content: "reduced 1")), "complete of reduce 1 answered false")
        let third = try await claimOne(from: store)
        try checkEqual(third.id, reduces[2].id, "task released once reduce 1 completed")
        try check(try await store.complete(claimed[1].lease, result: TaskResult(content: "reduced 2")), "complete of reduce 2 answered false")
        try check(try await store.complete(third.lease, result: TaskResult(content: "reduced 3")), "complete of reduce 3 answered false")

        let second = try await claimOne(from: store)
        try checkEqual(second.id, parent.id, "task claimed once the second level completed")
        try checkEqual(second.attempt, 1, "attempt of the parent (handing it back with children does not count)")
        let results = try await store.tasks(ids: (maps + reduces).map(\.id)).compactMapValues(\.result)
        try checkEqual(results.count, 5, "children of both levels readable with their results")
        try check(try await store.complete(second.lease, result: TaskResult(content: "whole")), "complete of the parent answered false")
        try checkEqual(try await store.counts(), QueueCounts(completed: 6), "counts once the flow is done")
    }

    static func flowNests(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let top = newTask("combine documents")
        let documents = (1...2).map { newTask("document \($0)") }
        _ = try await enqueueFlow(NewFlow(parent: top, children: documents, onChildFailure: .continue), into: store)
        let claimed = try await store.claim(limit: 10, lease: .seconds(60))
        try checkEqual(claimed.map(\.id), documents.map(\.id), "documents claimed")
        let chunks = (1...2).map { newTask("chunk \($0)") }
        try check(try await store.addChildren(claimed[0].lease, children: chunks, maxParallel: nil), "addChildren on a child answered false")
        try checkEqual(
            try await store.flow(parentID: documents[0].id),
            FlowState(childIDs: chunks.map(\.id), pending: 2, failedChildren: [:], policy: .continue),
            "flow of a child that became a parent (its parent's policy)")
        try check(try await store.complete(claimed[1].lease, result: TaskResult(content: "doc 2")), "complete of document 2 answered false")
        try checkEqual(try await flowState(top.id, in: store).pending, 1, "pending of the top parent while document 1 waits")

        let chunkClaims = try await store.claim(limit: 10, lease: .seconds(60))
        try checkEqual(chunkClaims.map(\.id), chunks.map(\.id), "tasks claimable: the chunks, not the top parent")
        try check(try await store.fail(chunkClaims[0].lease, error: "no text"), "fail of chunk 1 answered false")
        try check(try await store.complete(chunkClaims[1].lease, result: TaskResult(content: "chunk 2")), "complete of chunk 2 answered false")
        let document = try await claimOne(from: store)
        try checkEqual(document.id, documents[0].id, "task claimable once the chunks finished")
        try check(try await store.complete(document.lease, result: TaskResult(content: "doc 1")), "complete of document 1 answered false")
        try checkEqual(try await claimOne(from: store).id, top.id, "task claimable once both documents completed")
        try checkEqual(try await flowState(top.id, in: store).failedChildren, [:], "failed children of the top parent")
        try checkEqual(try await flowState(documents[0].id, in: store).failedChildren, [chunks[0].id: "no text"], "failed children of document 1")
    }

    /// A failure travels up a tree of `fail` flows; a cancel travels down to the grandchildren.
    static func flowNestedFailureAndCancelTravelTheTree(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        func tree(_ name: String) async throws -> (top: NewTask, child: ClaimedTask, grandchildren: [NewTask]) {
            let top = newTask("\(name) top"), child = newTask("\(name) child")
            _ = try await enqueueFlow(NewFlow(parent: top, children: [child], onChildFailure: .fail), into: store)
            let claimed = try await claimOne(from: store)
            try checkEqual(claimed.id, child.id, "task claimed in the \(name) tree")
            let grandchildren = (1...2).map { newTask("\(name) grandchild \($0)") }
            try check(try await store.addChildren(claimed.lease, children: grandchildren, maxParallel: 1), "addChildren in the \(name) tree answered false")
            return (top, claimed, grandchildren)
        }

        let failing = try await tree("failing")
        let grandchild = try await claimOne(from: store)
        try checkEqual(grandchild.id, failing.grandchildren[0].id, "task claimed (maxParallel 1)")
        try check(try await store.fail(grandchild.lease, error: "no text"), "fail of a grandchild answered false")
        let statuses = try await store.tasks(ids: [failing.top.id, failing.child.id] + failing.grandchildren.map(\.id))
        try checkEqual(
            statuses.mapValues(\.status),
            [failing.top.id: .error, failing.child.id: .error, failing.grandchildren[0].id: .error, failing.grandchildren[1].id: .cancelled],
            "the tree once a grandchild failed")
        try check(
            (statuses[failing.top.id]?.error ?? "").contains(failing.child.id),
            "the top parent's error should name its child, got \"\(statuses[failing.top.id]?.error ?? "")\"")

        let cancelled = try await tree("cancelled")
        let running = try await claimOne(from: store)
        try checkEqual(running.id, cancelled.grandchildren[0].id, "task claimed in the cancelled tree")
        try checkEqual(try await store.cancel(id: cancelled.top.id), .cancelled, "cancel of the top parent")
        let after = try await store.tasks(ids: [cancelled.top.id, cancelled.child.id] + cancelled.grandchildren.map(\.id))
        try checkEqual(Set(after.values.map(\.status)), [.cancelled], "statuses of the tree once its top parent was cancelled")
        try checkEqual(after.count, 4, "tasks of the cancelled tree readable")
        try check(!(try await store.complete(running.lease, result: TaskResult(content: "late"))), "complete of a cancelled grandchild answered true")
        try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).count, 0, "tasks claimable once both trees ended")
        try checkEqual(try await store.counts(), QueueCounts(error: 3, cancelled: 5), "counts once both trees ended")
    }

    static func flowIdempotencyKeyAnswersDuplicate(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let flow = NewFlow(parent: newTask("combine"), children: (1...2).map { newTask("part \($0)") })
        let ids = try await enqueueFlow(flow, into: store, idempotencyKey: "summary-42")
        let again = NewFlow(parent: newTask("combine again"), children: (1...3).map { newTask("again \($0)") })
        try checkEqual(try await store.enqueueFlow(again, idempotencyKey: "summary-42"), .duplicate(ids), "a second enqueueFlow with the key")
        try checkEqual(try await store.counts(), QueueCounts(queued: 3), "counts after the duplicate")
        try checkEqual(try await store.tasks(ids: [again.parent.id]).count, 0, "tasks stored by the duplicate")
        try checkEqual(try await store.enqueue([newTask("plain")], idempotencyKey: "summary-42"), .duplicate(ids), "enqueue with the flow's key")
    }

    /// Two instances share one flow; the one holding the last child dies (its lease runs out,
    /// as after kill -9) and the other takes it up and finishes the flow.
    static func flowSharedByTwoInstances(_ stores: Stores) async throws {
        let first = try await openFlowStore(stores)
        let second = try flowStore(try await stores.openSibling(of: first))
        let parent = newTask("combine")
        let children = (1...4).map { newTask("part \($0)") }
        _ = try await enqueueFlow(NewFlow(parent: parent, children: children, onChildFailure: .fail), into: first)

        let mine = try await first.claim(limit: 2, lease: .milliseconds(300))
        let theirs = try await second.claim(limit: 2, lease: .seconds(60))
        try checkEqual(Set((mine + theirs).map(\.id)), Set(children.map(\.id)), "children claimed by the two instances")
        try check(try await first.complete(mine[0].lease, result: TaskResult(content: "first")), "complete on the first instance answered false")
        for claimed in theirs {
            try check(try await second.complete(claimed.lease, result: TaskResult(content: "second")), "complete on the second instance answered false")
        }
        try checkEqual(try await flowState(parent.id, in: second).pending, 1, "pending, as the second instance reads it")

        // The first instance dies holding the last child.
        try await Task.sleep(for: .milliseconds(700))
        try checkEqual(try await second.reclaimExpiredLeases(maxAttempts: 5), 1, "leases reclaimed by the second instance")
        try checkEqual(try await record(parent.id, in: second).status, .queued, "status of the parent after the reclaim")
        let retaken = try await claimOne(from: second)
        try checkEqual(retaken.id, mine[1].id, "task taken up by the second instance")
        try check(!(try await first.complete(mine[1].lease, result: TaskResult(content: "from the dead"))), "complete by the dead instance answered true")
        try check(try await second.complete(retaken.lease, result: TaskResult(content: "second")), "complete of the last child answered false")

        let claimedParent = try await claimOne(from: first)
        try checkEqual(claimedParent.id, parent.id, "task claimed by the first instance once every child completed")
        let results = try await first.tasks(ids: children.map(\.id)).compactMapValues(\.result)
        var expected = [mine[0].id: "first"]
        for claimed in theirs + [retaken] { expected[claimed.id] = "second" }
        try checkEqual(results, expected, "children's results read by the first instance")
    }

    /// Finished children outlive their own time to live while their parent has not finished,
    /// and expire with it.
    static func flowChildrenExpireWithTheirParent(_ stores: Stores) async throws {
        let retention = RetentionPolicy(statusTTL: .seconds(1), resultTTL: .seconds(1))
        let store = try await openFlowStore(stores, retention: retention)
        let parent = newTask("combine")
        let children = (1...2).map { newTask("part \($0)") }
        let ids = try await enqueueFlow(NewFlow(parent: parent, children: children, onChildFailure: .continue), into: store)
        let claimed = try await store.claim(limit: 10, lease: .seconds(60))
        try check(try await store.complete(claimed[0].lease, result: TaskResult(content: "kept")), "complete of child 1 answered false")
        try check(try await store.fail(claimed[1].lease, error: "kept too"), "fail of child 2 answered false")

        try await Task.sleep(for: .milliseconds(1_500))
        _ = try await store.purgeExpired()
        try checkEqual(try await store.tasks(ids: ids).count, 3, "tasks readable 1.5 s after the children finished (TTL 1 s), the parent unfinished")
        try checkEqual(try await store.counts(), QueueCounts(queued: 1, completed: 1, error: 1), "counts while the parent has not finished")
        let claimedParent = try await claimOne(from: store)
        try checkEqual(claimedParent.id, parent.id, "task claimed")
        try checkEqual(try await store.tasks(ids: ids).compactMapValues(\.result)[children[0].id], "kept", "a child's result as the parent reads it")
        try check(try await store.complete(claimedParent.lease, result: TaskResult(content: "whole")), "complete of the parent answered false")

        try await Task.sleep(for: .milliseconds(1_500))
        try checkEqual(try await store.tasks(ids: ids).count, 0, "tasks readable 1.5 s after the parent finished (TTL 1 s)")
        try check(try await store.purgeExpired() >= 3, "purgeExpired removed fewer than the flow's 3 tasks")
        try checkEqual(try await store.counts(), QueueCounts(), "counts once the flow expired")
        try checkEqual(try await store.flow(parentID: parent.id), nil, "flow of an expired parent")
    }

    static func flowLateCompletionAfterLeaseLoss(_ stores: Stores) async throws {
        let store = try await openFlowStore(stores)
        let parent = newTask("combine")
        let child = newTask("slow part")
        _ = try await enqueueFlow(NewFlow(parent: parent, children: [child]), into: store)
        let stale = try await claimOne(from: store, lease: .milliseconds(200))
        try await Task.sleep(for: .milliseconds(600))
        try checkEqual(try await store.reclaimExpiredLeases(maxAttempts: 5), 1, "leases reclaimed")
        let current = try await claimOne(from: store)
        try checkEqual(current.id, child.id, "task claimed again")

        try check(!(try await store.complete(stale.lease, result: TaskResult(content: "late"))), "complete with a stale lease answered true")
        try check(!(try await store.fail(stale.lease, error: "late")), "fail with a stale lease answered true")
        try checkEqual(try await flowState(parent.id, in: store).pending, 1, "pending after the late calls")
        try checkEqual(try await record(parent.id, in: store).status, .queued, "status of the parent after the late calls")
        try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).count, 0, "tasks claimable after the late calls")

        try check(try await store.complete(current.lease, result: TaskResult(content: "on time")), "complete with the current lease answered false")
        try checkEqual(try await claimOne(from: store).id, parent.id, "task claimable once the child completed")
        try checkEqual(try await record(child.id, in: store).result, "on time", "the child's result")
    }

    // MARK: - Helpers

    static func flowStore(_ store: any TaskStore, file: String = #fileID, line: Int = #line) throws -> any FlowStore {
        try unwrap(store as? any FlowStore, "\(type(of: store)) is no FlowStore: the flow cases need one", file: file, line: line)
    }

    static func openFlowStore(
        _ stores: Stores, retention: RetentionPolicy = RetentionPolicy(), file: String = #fileID, line: Int = #line
    ) async throws -> any FlowStore {
        try flowStore(try await stores.open(retention: retention), file: file, line: line)
    }

    /// Enqueues a flow that must be stored anew, and answers its ids (parent first).
    static func enqueueFlow(
        _ flow: NewFlow, into store: any FlowStore, idempotencyKey: String? = nil, file: String = #fileID, line: Int = #line
    ) async throws -> [String] {
        let outcome = try await store.enqueueFlow(flow, idempotencyKey: idempotencyKey)
        let expected = [flow.parent.id] + flow.children.map(\.id)
        try checkEqual(outcome, .stored(expected), "enqueueFlow of a parent and \(flow.children.count) child(ren)", file: file, line: line)
        return outcome.ids
    }

    /// The flow of a parent that must have one.
    static func flowState(
        _ parentID: String, in store: any FlowStore, file: String = #fileID, line: Int = #line
    ) async throws -> FlowState {
        try unwrap(try await store.flow(parentID: parentID), "flow of parent \(parentID) should be readable but is absent", file: file, line: line)
    }
}
