import PromptlineCore

/// Flows in memory, with the semantics of the SQLite store.
///
/// A child's entry names its parent (`parentID`); a parent has a ``Flow`` (its policy,
/// `maxParallel` and its children in order). A parent waiting for its children, and a child
/// held back by `maxParallel`, are `queued` and `blocked`. How many children are unfinished,
/// how many run and which failed is read from the children's entries when needed, under the
/// same lock as the change that finished a child.
///
/// Expiry: a child that finishes while its parent has not gets no expiry; when the parent
/// finishes, every descendant takes the parent's expiry.
extension InMemoryTaskStore {
    /// What a parent keeps of its flow.
    struct Flow {
        var policy: FlowFailurePolicy
        /// Of the current level; `nil`: no limit.
        var maxParallel: Int?
        /// Every child, over all levels, in the order they were added.
        var childIDs: [String] = []
    }

    package func enqueueFlow(_ flow: NewFlow, idempotencyKey: String?) async throws -> EnqueueOutcome {
        let now = clock.now
        let keyExpiry = now.advanced(by: retention.resultTTL)
        let maxParallel = flow.maxParallel.map { max($0, 1) }
        let ids = [flow.parent.id] + flow.children.map(\.id)
        let outcome = state.withLock { state -> EnqueueOutcome in
            if let stored = state.remembered(idempotencyKey, now: now) { return .duplicate(stored) }
            state.insert([flow.parent], now: now, blockedFrom: flow.children.isEmpty ? .max : 0)
            state.flows[flow.parent.id] = Flow(policy: flow.onChildFailure, maxParallel: maxParallel)
            state.insert(flow.children, now: now, parentID: flow.parent.id, blockedFrom: maxParallel ?? .max)
            state.remember(idempotencyKey, ids: ids, until: keyExpiry)
            return .stored(ids)
        }
        if case .stored = outcome { workSignal.signal() }
        return outcome
    }

    package func addChildren(_ lease: TaskLease, children: [NewTask], maxParallel: Int?) async throws -> Bool {
        let now = clock.now
        let maxParallel = maxParallel.map { max($0, 1) }
        let added = state.withLock { state -> Bool in
            guard var parent = state.holder(of: lease) else { return false }
            // Back to the queue without counting the attempt, as `release` does; blocked
            // while it has children to wait for.
            parent.requeue(notBefore: now)
            parent.record.attempts -= 1
            parent.blocked = !children.isEmpty
            state.tasks[lease.id] = parent
            if state.flows[lease.id] == nil {
                // A task that becomes a parent here takes the policy of the flow it belongs to.
                let inherited = parent.parentID.flatMap { state.flows[$0]?.policy }
                state.flows[lease.id] = Flow(policy: inherited ?? .fail)
            }
            state.flows[lease.id]?.maxParallel = maxParallel
            state.insert(children, now: now, parentID: lease.id, blockedFrom: maxParallel ?? .max)
            return true
        }
        if added { workSignal.signal() }
        return added
    }

    package func flow(parentID: String) async throws -> FlowState? {
        let now = clock.now
        return state.withLock { state in
            guard let flow = state.flows[parentID], let parent = state.tasks[parentID], !parent.isExpired(at: now) else {
                return nil
            }
            var flowState = FlowState(childIDs: [], pending: 0, failedChildren: [:], policy: flow.policy)
            for id in flow.childIDs {
                guard let child = state.tasks[id] else { continue }
                flowState.childIDs.append(id)
                switch child.record.status {
                case .queued, .processing: flowState.pending += 1
                case .error where flow.policy == .continue: flowState.failedChildren[id] = child.record.error ?? "failed"
                case .cancelled where flow.policy == .continue: flowState.failedChildren[id] = "cancelled"
                default: break
                }
            }
            return flowState
        }
    }
}

extension InMemoryTaskStore.State {
    /// Called once `id`'s entry holds its final status (and expiry): defers its expiry while
    /// its parent waits, cancels its own unfinished children if it is a parent, lets its
    /// descendants expire with it, and tells its parent. `statusExpiry` is when a parent
    /// failed by this finish expires. Answers whether a task became claimable.
    mutating func taskFinished(_ id: String, cause: String?, now: C.Instant, statusExpiry: C.Instant) -> Bool {
        guard let entry = tasks[id] else { return false }
        var expiry = entry.expiresAt
        if let parentID = entry.parentID, tasks[parentID].map({ !$0.record.status.isFinished }) ?? false {
            expiry = nil
            tasks[id]?.expiresAt = nil
        }
        if flows[id] != nil {
            cancelUnfinishedChildren(of: id)
            for descendant in descendants(of: id) { tasks[descendant]?.expiresAt = expiry }
        }
        guard let parentID = entry.parentID else { return false }
        return childFinished(
            id, of: parentID, status: entry.record.status, cause: cause ?? entry.record.status.rawValue,
            now: now, statusExpiry: statusExpiry)
    }

    /// Every task below `parentID`, over all levels.
    private func descendants(of parentID: String) -> [String] {
        let children = flows[parentID]?.childIDs ?? []
        return children + children.flatMap { descendants(of: $0) }
    }

    /// Cancels the unfinished children of a parent that has just finished, and theirs. Their
    /// parent has finished, so they tell it nothing; the new token fences out any worker
    /// holding one of them.
    private mutating func cancelUnfinishedChildren(of parentID: String) {
        for id in flows[parentID]?.childIDs ?? [] {
            guard var child = tasks[id], !child.record.status.isFinished else { continue }
            nextToken += 1
            child.token = nextToken
            child.record.status = .cancelled
            child.finish(expiresAt: nil)
            tasks[id] = child
            cancelUnfinishedChildren(of: id)
        }
    }

    /// A child of `parentID` has finished. A waiting parent fails (policy `fail`, the child
    /// did not complete), or lets held siblings go, or becomes claimable. Answers whether a
    /// task became claimable.
    private mutating func childFinished(
        _ childID: String, of parentID: String, status: TaskStatus, cause: String, now: C.Instant, statusExpiry: C.Instant
    ) -> Bool {
        guard var parent = tasks[parentID], parent.record.status == .queued, parent.blocked, let flow = flows[parentID] else {
            return false  // Not waiting: it has finished, and this child was part of its end.
        }
        if status != .completed, flow.policy == .fail {
            let error = "child \(childID) failed: \(cause)"
            parent.record.status = .error
            parent.record.error = error
            parent.finish(expiresAt: statusExpiry)
            tasks[parentID] = parent
            return taskFinished(parentID, cause: error, now: now, statusExpiry: statusExpiry)
        }
        let unfinished = flow.childIDs.compactMap { tasks[$0] }.filter { !$0.record.status.isFinished }
        if unfinished.isEmpty {
            parent.blocked = false
            parent.notBefore = now
            tasks[parentID] = parent
            return true
        }
        guard let maxParallel = flow.maxParallel else { return false }
        // Held back: blocked and no parent itself. A blocked child with a flow of its own is
        // waiting for its children, and runs as far as `maxParallel` is concerned.
        let held = unfinished.filter { $0.blocked && flows[$0.record.id] == nil }
        let running = unfinished.count - held.count
        let released = held.prefix(max(maxParallel - running, 0))
        for child in released {
            tasks[child.record.id]?.blocked = false
            tasks[child.record.id]?.notBefore = now
        }
        return !released.isEmpty
    }
}
