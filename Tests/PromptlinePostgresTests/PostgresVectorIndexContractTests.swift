import Logging
import PostgresNIO
import PromptlineKnowledge
import PromptlinePostgres
import PromptlineStoreContract
import Testing

/// The vector index contract, run against the real PostgreSQL with pgvector of
/// ``TestPostgres``: every case shares the test database, with collections of its own.
@Suite(.enabled(if: TestPostgres.url != nil, "PROMPTLINE_TEST_POSTGRES_URL is not set: run ./scripts/test.sh, or ./scripts/start-postgres.sh and export the URL it prints"))
struct PostgresVectorIndexContractTests {
    @Test(.timeLimit(.minutes(1)), arguments: VectorIndexContract.cases)
    func contract(_ contractCase: VectorIndexContract.Case) async throws {
        try await TestPostgres.withIndex(TestPostgres.configuration()) { index in
            try await contractCase.run({ index })
        }
    }
}
