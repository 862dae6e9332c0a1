import Foundation
import PostgresNIO
import PromptlineKnowledge

extension PostgresVectorIndex {
    /// The schema, one step per version; a step runs once per database, in order.
    /// Steps are only ever added at the end.
    static let migrations: [String] = [
        """
        CREATE EXTENSION IF NOT EXISTS vector;
        CREATE TABLE promptline_vector_collections (
            name text PRIMARY KEY,
            dims integer NOT NULL CHECK (dims > 0)
        );
        CREATE TABLE promptline_vector_chunks (
            collection text NOT NULL REFERENCES promptline_vector_collections (name) ON DELETE CASCADE,
            file_id text NOT NULL,
            idx integer NOT NULL,
            dims integer NOT NULL,
            text text NOT NULL,
            embedding vector NOT NULL,
            PRIMARY KEY (collection, file_id, idx)
        );
        """,
    ]

    /// The version the schema is at once ``migrate()`` returns.
    package static var schemaVersion: Int { migrations.count }

    /// The key of the transaction-scoped advisory lock that migrations and index creation
    /// hold, so that instances starting together take turns ("promptln" in ASCII).
    static let schemaLock: Int64 = 0x7072_6F6D_7074_6C6E

    /// Brings the database's schema to ``schemaVersion``: run once at start-up, before the
    /// first request, by every instance. One transaction holds an advisory lock while it
    /// reads `promptline_vector_migrations` and applies the steps not yet recorded there, so
    /// two instances starting at once apply each step once, and running it again changes
    /// nothing. Returns the version the database was at before.
    @discardableResult
    package func migrate() async throws -> Int {
        let before = try await transaction("migrating the vector index's schema") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.schemaLock))", logger: self.logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS promptline_vector_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: self.logger
            )
            var current = 0
            for try await version in try await connection.query(
                "SELECT coalesce(max(version), 0)::int8 FROM promptline_vector_migrations", logger: self.logger
            ).decode(Int.self) {
                current = version
            }
            for (offset, step) in Self.migrations.enumerated() where offset + 1 > current {
                for statement in step.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query("INSERT INTO promptline_vector_migrations (version) VALUES (\(offset + 1))", logger: self.logger)
            }
            return current
        }
        if before < Self.schemaVersion {
            logger.info("vector index schema migrated", metadata: ["server": "\(configuration.description)", "from": "\(before)", "to": "\(Self.schemaVersion)"])
        }
        return before
    }

    /// Makes the partial HNSW index of one dimension unless it exists: cosine distance on
    /// `embedding::vector(N)` for the rows `WHERE dims = N`. Under the schema lock, since
    /// two `CREATE INDEX IF NOT EXISTS` of the same name at once may both try to create it.
    func ensureHNSWIndex(dimension: Int) async throws {
        guard dimension <= Self.maximumIndexedDimension else { return }
        guard !indexedDimensions.withLock({ $0.contains(dimension) }) else { return }
        try await transaction("creating the HNSW index of dimension \(dimension)") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.schemaLock))", logger: self.logger)
            try await connection.query(
                PostgresQuery(unsafeSQL: """
                CREATE INDEX IF NOT EXISTS promptline_vector_chunks_hnsw_\(dimension) ON promptline_vector_chunks
                USING hnsw ((embedding::vector(\(dimension))) vector_cosine_ops) WHERE dims = \(dimension)
                """),
                logger: self.logger
            )
        }
        indexedDimensions.withLock { _ = $0.insert(dimension) }
    }
}
