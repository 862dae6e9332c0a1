import PromptlineCore
import Synchronization

/// The contract every ``TaskStore`` must honour, as a list of cases a store's test target runs.
///
/// The suite depends on no test framework. A store's tests run it with Swift Testing:
///
/// ```swift
/// @Test(arguments: StoreContract.cases)
/// func contract(_ contractCase: StoreContract.Case) async throws {
///     try await contractCase.run({ retention in try await MyStore.open(…) },
///                                close: { store in try await (store as! MyStore).close() })
/// }
/// ```
///
/// A case opens as many stores as it needs through the factory; each must be fresh and
/// empty (its own directory, or its own Redis key prefix). A case that plays several
/// instances of one deployment opens a second store on the backend of the first through
/// the sibling factory. The case runner closes every store it opened once the case is
/// over, whether it passed or not.
package enum StoreContract {
    /// Makes a fresh, empty store with the given retention.
    package typealias Factory = @Sendable (RetentionPolicy) async throws -> any TaskStore

    /// Closes a store the factory made (flushes, releases files and connections).
    package typealias Closer = @Sendable (any TaskStore) async throws -> Void

    /// Opens another store on the backend of one the factory made — the same database file,
    /// the same Redis and key prefix — as a second instance of the deployment would.
    package typealias SiblingFactory = @Sendable (any TaskStore) async throws -> any TaskStore

    /// One behaviour of the contract, checked against fresh stores.
    package struct Case: Sendable, CustomStringConvertible {
        package let name: String
        let body: @Sendable (Stores) async throws -> Void

        init(_ name: String, _ body: @escaping @Sendable (Stores) async throws -> Void) {
            self.name = name
            self.body = body
        }

        package var description: String { name }

        /// Runs the case against stores made by `factory` (and `sibling`), then closes each
        /// of them with `close`. Throws a ``ContractFailure`` when the store breaks the
        /// contract. Without `sibling`, a store is its own second instance (as an in-memory
        /// store must be).
        package func run(
            _ factory: @escaping Factory, sibling: SiblingFactory? = nil, close: @escaping Closer = { _ in }
        ) async throws {
            let stores = Stores(factory: factory, sibling: sibling)
            var failure: (any Error)?
            do {
                try await body(stores)
            } catch {
                failure = error
            }
            for store in stores.opened {
                do {
                    try await close(store)
                } catch {
                    failure = failure ?? error
                }
            }
            if let failure { throw failure }
        }
    }

    /// The stores one case opened, so that the runner can close them all.
    final class Stores: Sendable {
        private let factory: Factory
        private let sibling: SiblingFactory?
        private let stores = Mutex<[any TaskStore]>([])

        init(factory: @escaping Factory, sibling: SiblingFactory?) {
            self.factory = factory
            self.sibling = sibling
        }

        /// A fresh, empty store.
        func open(retention: RetentionPolicy = RetentionPolicy()) async throws -> any TaskStore {
            let store = try await factory(retention)
            stores.withLock { $0.append(store) }
            return store
        }

        /// Another store on the backend of `store`: a second instance sharing its tasks.
        func openSibling(of store: any TaskStore) async throws -> any TaskStore {
            guard let sibling else { return store }
            let opened = try await sibling(store)
            stores.withLock { $0.append(opened) }
            return opened
        }

        var opened: [any TaskStore] {
            stores.withLock { $0 }
        }
    }

    /// Every case of the contract.
    package static let cases: [Case] = [
        Case("enqueue stores a batch in order", enqueueStoresBatchInOrder),
        Case("idempotency key answers duplicate", idempotencyKeyAnswersDuplicate),
        Case("empty batch stores nothing", emptyBatchStoresNothing),
        Case("claim takes priority then oldest", claimTakesPriorityThenOldest),
        Case("claim on empty queue answers nothing", claimOnEmptyQueueAnswersNothing),
        Case("concurrent claimers share without overlap", concurrentClaimersShareWithoutOverlap),
        Case("complete with current lease", completeWithCurrentLease),
        Case("stale lease is fenced", staleLeaseIsFenced),
        Case("renew extends held leases", renewExtendsHeldLeases),
        Case("retry waits for its delay", retryWaitsForItsDelay),
        Case("fail records the cause", failRecordsTheCause),
        Case("release does not count the attempt", releaseDoesNotCountTheAttempt),
        Case("dead letters after max attempts", deadLettersAfterMaxAttempts),
        Case("cancel answers by state", cancelAnswersByState),
        Case("report progress on current lease only", reportProgressOnCurrentLeaseOnly),
        Case("counts reflect each state", countsReflectEachState),
        Case("finished tasks expire", finishedTasksExpire),
        Case("wait for work wakes on enqueue", waitForWorkWakesOnEnqueue),
        Case("wait for work times out", waitForWorkTimesOut),
        Case("metadata and unicode round-trip", metadataAndUnicodeRoundTrip),
        Case("large batch enqueues atomically", largeBatchEnqueuesAtomically),
        Case("owners are kept and counted", ownersAreKeptAndCounted),
        Case("flow parent waits for its children", flowParentWaitsForItsChildren),
        Case("flow with no children is claimable at once", flowWithNoChildrenIsClaimableAtOnce),
        Case("flow child failure fails the parent", flowChildFailureFailsTheParent),
        Case("flow child failure under continue", flowChildFailureUnderContinue),
        Case("flow cancelled child counts as failed", flowCancelledChildCountsAsFailed),
        Case("flow dead-lettered child", flowDeadLetteredChild),
        Case("flow cancel of the parent cancels its children", flowCancelOfTheParentCancelsItsChildren),
        Case("flow max parallel holds children back", flowMaxParallelHoldsChildrenBack),
        Case("flow max parallel counts a waiting child as running", flowMaxParallelCountsAWaitingChildAsRunning),
        Case("flow add children starts a new level", flowAddChildrenStartsANewLevel),
        Case("flow nests", flowNests),
        Case("flow nested failure and cancel travel the tree", flowNestedFailureAndCancelTravelTheTree),
        Case("flow idempotency key answers duplicate", flowIdempotencyKeyAnswersDuplicate),
        Case("flow shared by two instances", flowSharedByTwoInstances),
        Case("flow late completion after lease loss", flowLateCompletionAfterLeaseLoss),
        Case("flow children expire with their parent", flowChildrenExpireWithTheirParent),
    ]
}
