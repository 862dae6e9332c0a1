import Synchronization

/// Whether an operation has got its pooled connection yet, shared by the operation's task
/// and the one that gives up waiting for it.
final class LeaseFlag: Sendable {
    private let leased = Atomic<Bool>(false)

    func markLeased() { leased.store(true, ordering: .releasing) }
    var isLeased: Bool { leased.load(ordering: .acquiring) }
}
