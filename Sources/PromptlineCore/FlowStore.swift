/// What a failed child does to its parent, said when the flow is made.
package enum FlowFailurePolicy: String, Sendable, Hashable, Codable {
    /// A child that ends in `error` or is cancelled fails the parent at once (its error names
    /// the child and the cause) and cancels the parent's other unfinished children.
    case fail
    /// A child that ends in `error` or is cancelled is recorded in
    /// ``FlowState/failedChildren`` and counts as finished; the parent runs when the others
    /// have finished.
    case `continue`
}

/// A parent task and the children it waits on, as handed to a ``FlowStore`` for the first time.
package struct NewFlow: Sendable {
    /// The task that runs once every child has finished, and reads their results.
    package var parent: NewTask
    package var children: [NewTask]
    package var onChildFailure: FlowFailurePolicy
    /// At most this many of the parent's children are claimable or running at once; the
    /// others wait their turn, in order. `nil`: no limit; below 1 counts as 1.
    package var maxParallel: Int?

    package init(parent: NewTask, children: [NewTask], onChildFailure: FlowFailurePolicy = .fail, maxParallel: Int? = nil) {
        self.parent = parent
        self.children = children
        self.onChildFailure = onChildFailure
        self.maxParallel = maxParallel
    }
}

/// Where a flow stands, as its parent sees it.
package struct FlowState: Sendable, Hashable {
    /// Every child the parent has had, over all its levels, in the order they were added.
    package var childIDs: [String]
    /// How many children of the current level have not finished.
    package var pending: Int
    /// Under ``FlowFailurePolicy/continue``: the children that ended in `error` or were
    /// cancelled, with the cause (`"cancelled"` for a cancelled one). Empty under `fail`.
    package var failedChildren: [String: String]
    package var policy: FlowFailurePolicy

    package init(childIDs: [String], pending: Int, failedChildren: [String: String], policy: FlowFailurePolicy) {
        self.childIDs = childIDs
        self.pending = pending
        self.failedChildren = failedChildren
        self.policy = policy
    }
}

/// A store's power to run flows: a parent task that waits for its children.
///
/// A waiting parent has status `queued` (readers see the five statuses only) but is not
/// claimable until every child of its current level has finished; then it is claimed as
/// any task, by its priority and age. Every way a child can finish — `complete`, `fail`,
/// dead-lettering in `reclaimExpiredLeases`, `cancel` — updates its parent in the same
/// atomic step, so a parent never waits forever; a child retried, released or reclaimed
/// back to the queue has not finished and changes nothing. Cancelling a parent cancels its
/// unfinished children. Nothing of a flow lives in memory: it holds across kill -9, lease
/// loss and several instances sharing one store.
///
/// A finished child stays readable at least as long as its parent has not finished: its
/// expiry starts when the parent's does (children expire with their parent).
package protocol FlowStore: TaskStore {
    /// Stores the parent and all its children, all or nothing. Answers the ids, parent
    /// first, then the children in order. With an idempotency key already seen, stores
    /// nothing and answers the ids stored the first time. A parent with no children is
    /// claimable at once.
    func enqueueFlow(_ flow: NewFlow, idempotencyKey: String?) async throws -> EnqueueOutcome

    /// Sends a running parent back to waiting, on these new children (the next level of a
    /// reduce). Its earlier children stay readable and listed; the failure policy stays,
    /// `maxParallel` applies to the new level. The parent's attempt does not count, as in
    /// `release`. Answers `false`, and changes nothing, when `lease` is no longer current.
    ///
    /// Any running task may call it, which is how flows nest: a task that was no parent
    /// becomes one, with the failure policy of the flow it is a child of (``FlowFailurePolicy/fail``
    /// when it is no child), and its own parent goes on waiting for it.
    func addChildren(_ lease: TaskLease, children: [NewTask], maxParallel: Int?) async throws -> Bool

    /// The flow whose parent is `parentID`; `nil` when that task is no parent, unknown or expired.
    func flow(parentID: String) async throws -> FlowState?
}
