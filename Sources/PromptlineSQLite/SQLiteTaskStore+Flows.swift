import Foundation
import GRDB
import PromptlineCore

/// Flows in the embedded store.
///
/// A child's row names its parent (`parent_id`); a parent has a row in `flows` (its policy
/// and `maxParallel`). A parent waiting for its children, and a child held back by
/// `maxParallel`, are `queued` with `blocked = 1`, which keeps them out of the queue's index.
/// Everything else is read from the children's rows when needed — how many are unfinished,
/// how many run, which failed — so there is no counter to drift: the flow is whatever the
/// rows say, in the same transaction as the change that finished a child.
///
/// Expiry: a child that finishes while its parent has not gets no expiry (`expires_at`
/// NULL); when the parent finishes, every descendant takes the parent's expiry. Children
/// are read for their results as long as the parent is, and go with it.
extension SQLiteTaskStore {
    package func enqueueFlow(_ flow: NewFlow, idempotencyKey: String?) async throws -> EnqueueOutcome {
        let parent = try TaskRow.Insert(flow.parent)
        let children = try flow.children.map { try TaskRow.Insert($0) }
        let policy = flow.onChildFailure.rawValue
        let maxParallel = flow.maxParallel.map { max($0, 1) }
        let now = Self.now()
        let keyExpiry = now + retention.resultTTL.seconds
        let ids = [parent.id] + children.map(\.id)
        let outcome = try await writer.write { db -> EnqueueOutcome in
            if let stored = try Self.remembered(idempotencyKey, now: now, in: db) { return .duplicate(stored) }
            try Self.insert([parent], into: db, now: now, blockedFrom: children.isEmpty ? .max : 0)
            try db.execute(
                sql: "INSERT INTO flows (parent_id, policy, max_parallel) VALUES (?, ?, ?)",
                arguments: [parent.id, policy, maxParallel]
            )
            try Self.insert(children, into: db, now: now, parentID: parent.id, blockedFrom: maxParallel ?? .max)
            try Self.remember(idempotencyKey, ids: ids, until: keyExpiry, in: db)
            return .stored(ids)
        }
        if case .stored = outcome { workSignal.signal() }
        return outcome
    }

    package func addChildren(_ lease: TaskLease, children: [NewTask], maxParallel: Int?) async throws -> Bool {
        let rows = try children.map { try TaskRow.Insert($0) }
        let maxParallel = maxParallel.map { max($0, 1) }
        let now = Self.now()
        let added = try await writer.write { db -> Bool in
            // Back to the queue without counting the attempt, as `release` does; blocked
            // while it has children to wait for.
            guard let parent = try Row.fetchOne(db, sql: """
                UPDATE tasks SET status = 'queued', attempts = attempts - 1, lease_until = NULL, progress = 0,
                    available_at = ?, blocked = ?
                WHERE id = ? AND token = ? AND status = 'processing'
                RETURNING parent_id
                """, arguments: [now, rows.isEmpty ? 0 : 1, lease.id, lease.token])
            else { return false }
            // A task that becomes a parent here takes the policy of the flow it belongs to.
            let grandparent: String? = parent["parent_id"]
            let inherited = try grandparent.flatMap {
                try String.fetchOne(db, sql: "SELECT policy FROM flows WHERE parent_id = ?", arguments: [$0])
            }
            try db.execute(sql: """
                INSERT INTO flows (parent_id, policy, max_parallel) VALUES (?, ?, ?)
                ON CONFLICT (parent_id) DO UPDATE SET max_parallel = excluded.max_parallel
                """, arguments: [lease.id, inherited ?? FlowFailurePolicy.fail.rawValue, maxParallel])
            try Self.insert(rows, into: db, now: now, parentID: lease.id, blockedFrom: maxParallel ?? .max)
            return true
        }
        if added { workSignal.signal() }
        return added
    }

    package func flow(parentID: String) async throws -> FlowState? {
        let now = Self.now()
        return try await database.read { db in
            guard let name = try String.fetchOne(db, sql: """
                SELECT flows.policy FROM flows JOIN tasks ON tasks.id = flows.parent_id
                WHERE flows.parent_id = ? AND (tasks.expires_at IS NULL OR tasks.expires_at > ?)
                """, arguments: [parentID, now]),
                let policy = FlowFailurePolicy(rawValue: name)
            else { return nil }
            let children = try Row.fetchAll(
                db, sql: "SELECT id, status, error FROM tasks WHERE parent_id = ? ORDER BY seq", arguments: [parentID])
            var state = FlowState(childIDs: [], pending: 0, failedChildren: [:], policy: policy)
            for child in children {
                let id: String = child["id"]
                state.childIDs.append(id)
                switch TaskStatus(rawValue: child["status"] as String) {
                case .queued, .processing: state.pending += 1
                case .error where policy == .continue: state.failedChildren[id] = child["error"] ?? "failed"
                case .cancelled where policy == .continue: state.failedChildren[id] = "cancelled"
                default: break
                }
            }
            return state
        }
    }

    /// What a finished task does to its flow, inside the transaction that finished it.
    struct Flows {
        let db: Database
        let now: Double
        /// The lifetime of a task that failed or was cancelled, in seconds.
        let statusTTL: Double
        /// Whether a task became claimable: workers should be woken once committed.
        private(set) var wake = false

        init(db: Database, now: Double, statusTTL: Double) {
            self.db = db
            self.now = now
            self.statusTTL = statusTTL
        }

        /// Called once `id`'s row holds its final status (and `expiresAt`): defers its expiry
        /// while its parent waits, cancels its own unfinished children if it is a parent, lets
        /// its children expire with it, and tells its parent.
        mutating func taskFinished(_ id: String, parentID: String?, status: TaskStatus, cause: String?, expiresAt: Double) throws {
            var expiry: Double? = expiresAt
            if let parentID, try isUnfinished(parentID) {
                expiry = nil
                try db.execute(sql: "UPDATE tasks SET expires_at = NULL WHERE id = ?", arguments: [id])
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM flows WHERE parent_id = ?", arguments: [id]) ?? false {
                try cancelUnfinishedChildren(of: id)
                try db.execute(sql: """
                    WITH RECURSIVE descendants(id) AS (
                        SELECT id FROM tasks WHERE parent_id = ?
                        UNION ALL SELECT tasks.id FROM tasks JOIN descendants ON tasks.parent_id = descendants.id)
                    UPDATE tasks SET expires_at = ? WHERE id IN descendants
                    """, arguments: [id, expiry])
            }
            if let parentID {
                try childFinished(id, of: parentID, status: status, cause: cause ?? status.rawValue)
            }
        }

        private func isUnfinished(_ id: String) throws -> Bool {
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM tasks WHERE id = ? AND status IN ('queued', 'processing')", arguments: [id]
            ) ?? false
        }

        /// Cancels the unfinished children of a parent that has just finished, and theirs.
        /// Their parent has finished, so they tell it nothing; the new token fences out any
        /// worker holding one of them.
        private func cancelUnfinishedChildren(of parentID: String) throws {
            let cancelled = try String.fetchAll(db, sql: """
                UPDATE tasks SET status = 'cancelled', token = token + 1, lease_until = NULL, blocked = 0,
                    finished_at = ?, expires_at = NULL
                WHERE parent_id = ? AND status IN ('queued', 'processing')
                RETURNING id
                """, arguments: [now, parentID])
            for child in cancelled {
                try cancelUnfinishedChildren(of: child)
            }
        }

        /// A child of `parentID` has finished. A waiting parent fails (policy `fail`, the
        /// child did not complete), or lets held siblings go, or becomes claimable.
        private mutating func childFinished(_ childID: String, of parentID: String, status: TaskStatus, cause: String) throws {
            guard let parent = try Row.fetchOne(db, sql: """
                SELECT tasks.parent_id, flows.policy, flows.max_parallel FROM tasks JOIN flows ON flows.parent_id = tasks.id
                WHERE tasks.id = ? AND tasks.status = 'queued' AND tasks.blocked = 1
                """, arguments: [parentID])
            else { return }  // Not waiting: it has finished, and this child was part of its end.
            if status != .completed, FlowFailurePolicy(rawValue: parent["policy"]) == .fail {
                let expiresAt = now + statusTTL
                try db.execute(sql: """
                    UPDATE tasks SET status = 'error', error = ?, blocked = 0, finished_at = ?, expires_at = ?
                    WHERE id = ?
                    """, arguments: ["child \(childID) failed: \(cause)", now, expiresAt, parentID])
                try taskFinished(parentID, parentID: parent["parent_id"], status: .error, cause: "child \(childID) failed: \(cause)", expiresAt: expiresAt)
                return
            }
            // Held back: blocked and never run. A blocked child with a flow of its own is
            // waiting for its children, and runs as far as `maxParallel` is concerned.
            let counts = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS pending,
                       COALESCE(SUM(NOT (blocked = 1 AND NOT EXISTS (SELECT 1 FROM flows WHERE flows.parent_id = tasks.id))), 0) AS running
                FROM tasks WHERE parent_id = ? AND status IN ('queued', 'processing')
                """, arguments: [parentID])!
            let pending: Int = counts["pending"]
            if pending == 0 {
                try db.execute(sql: "UPDATE tasks SET blocked = 0, available_at = ? WHERE id = ?", arguments: [now, parentID])
                wake = true
            } else if let maxParallel = parent["max_parallel"] as Int?, maxParallel > counts["running"] {
                try db.execute(sql: """
                    UPDATE tasks SET blocked = 0, available_at = ?
                    WHERE id IN (SELECT id FROM tasks WHERE parent_id = ? AND status = 'queued' AND blocked = 1
                                   AND NOT EXISTS (SELECT 1 FROM flows WHERE flows.parent_id = tasks.id)
                                 ORDER BY seq LIMIT ?)
                    """, arguments: [now, parentID, maxParallel - (counts["running"] as Int)])
                wake = wake || db.changesCount > 0
            }
        }
    }
}
