import GRDB
import Synchronization

/// Runs writes on the database's single writer, many to a transaction.
///
/// Every write waits in a queue; the writer takes all that are waiting at once and runs them
/// in one transaction, commits, and only then answers each caller. A write that throws
/// undoes only itself (see `flush`). Under load this turns thousands of small
/// transactions a second into a few hundred larger ones; when idle, a write is committed at
/// once. A caller is answered only after its change is committed: that is what a `202`
/// stands on.
final class GroupCommitWriter: Sendable {
    private struct PendingWrite: Sendable {
        /// Runs the write; keeps its value for `finish`.
        let apply: @Sendable (Database) throws -> Void
        /// Answers the caller, once the transaction is committed or has failed.
        let finish: @Sendable (Error?) -> Void
    }

    private struct State {
        var pending: [PendingWrite] = []
        var flushScheduled = false
    }

    private let database: DatabasePool
    private let state = Mutex(State())

    init(database: DatabasePool) {
        self.database = database
    }

    /// Runs `body` in a transaction shared with whatever other writes are waiting, and
    /// answers its value once that transaction is committed. Not cancellable: once asked,
    /// a write is carried out.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            // `apply` and `finish` run one after the other on the writer's queue.
            let value = WriterQueueBox<T>()
            let write = PendingWrite(
                apply: { db in value.value = try body(db) },
                finish: { error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else {
                        continuation.resume(returning: value.value!)
                    }
                }
            )
            let mustSchedule = state.withLock { state in
                state.pending.append(write)
                defer { state.flushScheduled = true }
                return !state.flushScheduled
            }
            if mustSchedule {
                database.asyncWriteWithoutTransaction { db in self.flush(db) }
            }
        }
    }

    private func flush(_ db: Database) {
        let batch = state.withLock { state in
            state.flushScheduled = false
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
        guard !batch.isEmpty else { return }
        // The fast path: the whole batch in one transaction. Writes rarely throw; when one
        // does, the transaction is rolled back and each write runs again in its own, so
        // that one failure undoes only itself.
        let errors: [Error?]
        if batch.count > 1, (try? Self.transaction(db, { for write in batch { try write.apply(db) } })) != nil {
            errors = Array(repeating: nil, count: batch.count)
        } else {
            errors = batch.map { write in
                do {
                    try Self.transaction(db) { try write.apply(db) }
                    return nil
                } catch {
                    return error
                }
            }
        }
        for (write, error) in zip(batch, errors) {
            write.finish(error)
        }
    }

    private static func transaction(_ db: Database, _ body: () throws -> Void) throws {
        try db.beginTransaction(.immediate)
        do {
            try body()
            try db.commit()
        } catch {
            if db.isInsideTransaction { try? db.rollback() }
            throw error
        }
    }
}

/// Holds one write's value between `apply` and `finish`, which the writer's serial queue
/// runs one after the other: there is never concurrent access.
private final class WriterQueueBox<T>: @unchecked Sendable {
    var value: T?
}
