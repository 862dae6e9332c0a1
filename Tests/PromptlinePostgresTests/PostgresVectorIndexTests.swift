import Logging
import PostgresNIO
import PromptlineKnowledge
import PromptlinePostgres
import PromptlineStoreContract
import Testing

/// What only the PostgreSQL index does: its migrations, its HNSW plan, its errors.
@Suite(.enabled(if: TestPostgres.url != nil, "PROMPTLINE_TEST_POSTGRES_URL is not set: run ./scripts/test.sh, or ./scripts/start-postgres.sh and export the URL it prints"))
struct PostgresVectorIndexTests {
    /// The contract again with every search on the HNSW query (none is small enough for the
    /// exact scan), and sorting made so dear that the planner walks the HNSW index rather
    /// than reading a few files' rows through the primary key and sorting them: iterative
    /// scans and the exact fallback are what fill the limit.
    @Test(.timeLimit(.minutes(1)), arguments: VectorIndexContract.cases)
    func contractThroughHNSW(_ contractCase: VectorIndexContract.Case) async throws {
        var configuration = try TestPostgres.configuration()
        configuration.exactSearchLimit = 0
        configuration.sessionSettings = [("enable_sort", "off")]
        try await TestPostgres.withIndex(configuration) { index in
            try await contractCase.run({ index })
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func migrationsRunTwiceAreHarmless() async throws {
        try await TestPostgres.withEmptyDatabase { configuration in
            try await TestPostgres.withIndex(configuration) { index in
                let chunk = IndexedChunk(fileID: "file-a", index: 0, text: "kept", vector: [1, 0, 0])
                try await index.upsert([chunk], collection: "c")
                #expect(try await index.migrate() == PostgresVectorIndex.schemaVersion, "a second migration starts from the current version")
                #expect(try await index.count(fileID: "file-a", collection: "c") == 1, "chunks written before the second migration")
            }
            let versions = try await TestPostgres.strings(configuration, "SELECT version::text FROM promptline_vector_migrations ORDER BY version")
            #expect(versions == (1...PostgresVectorIndex.schemaVersion).map(String.init), "each step recorded once")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func twoIndexesOpenedAtOnceOnAnEmptyDatabaseBothComeUp() async throws {
        try await TestPostgres.withEmptyDatabase { configuration in
            let before = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 {
                    group.addTask { try await TestPostgres.withIndex(configuration) { _ in } ; return 0 }
                }
                var started: [Int] = []
                for try await version in group { started.append(version) }
                return started
            }
            #expect(before.count == 2)
            // Both migrated without error; the steps are recorded once.
            let versions = try await TestPostgres.strings(configuration, "SELECT version::text FROM promptline_vector_migrations ORDER BY version")
            #expect(versions == (1...PostgresVectorIndex.schemaVersion).map(String.init))
            // And both can write and search at once, the first writes of a new dimension
            // making its HNSW index together.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for instance in 0..<2 {
                    group.addTask {
                        try await TestPostgres.withIndex(configuration) { index in
                            try await index.upsert([IndexedChunk(fileID: "f\(instance)", index: 0, text: "t", vector: [1, 2, 3, 4, 5])], collection: "c\(instance)")
                            #expect(try await index.search([1, 2, 3, 4, 5], collection: "c\(instance)", files: ["f\(instance)"], limit: 1).count == 1)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// The approximate query is answered by the partial HNSW index of its dimension.
    @Test(.timeLimit(.minutes(1)))
    func theApproximateQueryUsesTheHNSWIndex() async throws {
        try await TestPostgres.withEmptyDatabase { configuration in
            let vectors = (0..<2_000).map { number in (0..<24).map { Float(sin(Double(number * 24 + $0))) } }
            try await TestPostgres.withIndex(configuration) { index in
                try await index.upsert(
                    vectors.enumerated().map { IndexedChunk(fileID: "file-\($0.offset % 20)", index: $0.offset / 20, text: "", vector: $0.element) },
                    collection: "c"
                )
            }
            try await TestPostgres.admin(configuration, "ANALYZE promptline_vector_chunks")
            let query = PostgresVectorIndex.approximateQuery(
                "[" + vectors[5].map { "\($0)" }.joined(separator: ",") + "]",
                dimension: 24, collection: "c", files: (0..<20).map { "file-\($0)" }, limit: 10
            )
            var explain = query
            explain.sql = "EXPLAIN " + query.sql
            let plan = try await TestPostgres.strings(configuration, explain).joined(separator: "\n")
            #expect(plan.contains("promptline_vector_chunks_hnsw_24"), "the plan:\n\(plan)")
        }
    }
}
