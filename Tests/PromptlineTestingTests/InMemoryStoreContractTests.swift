import PromptlineCore
import PromptlineStoreContract
import PromptlineTesting
import Testing

/// The store contract, run against the in-memory store: the pool's tests can trust it to
/// behave as the real stores do.
///
/// The contract waits on real time (leases running out, retry delays, expiry), so here the
/// store runs on the continuous clock.
@Suite struct InMemoryStoreContractTests {
    @Test(.timeLimit(.minutes(1)), arguments: StoreContract.cases)
    func contract(_ contractCase: StoreContract.Case) async throws {
        try await contractCase.run { retention in InMemoryTaskStore(retention: retention) }
    }
}
