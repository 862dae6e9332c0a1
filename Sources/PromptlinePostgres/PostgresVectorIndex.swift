import Logging
import PostgresNIO
import PromptlineKnowledge
import ServiceLifecycle
import Synchronization

/// The ``VectorIndex`` on PostgreSQL with pgvector, shared by every Promptline instance
/// that names the same database.
///
/// The index owns a `PostgresClient` pool, which runs while ``run()`` does: put the index
/// in the application's `ServiceGroup` (tests run it in a task group), then call
/// ``migrate()`` once before the first request. Migrations are Promptline's own and safe to
/// run from several instances at once (see ``migrate()``).
///
/// Chunks of every collection live in one table, `promptline_vector_chunks`, in a
/// `vector` column of no fixed dimension; each row keeps its dimension in `dims`. Each
/// dimension in use gets its own partial HNSW index on `embedding::vector(N)`, made when a
/// collection of that dimension is first written, and searches are written so that the
/// planner can use it (see ``search(_:collection:files:limit:)``).
package final class PostgresVectorIndex: VectorIndex, Service {
    package let configuration: Configuration
    let client: PostgresClient
    let logger: Logger
    /// Dimensions whose HNSW index this instance has made sure of.
    let indexedDimensions = Mutex<Set<Int>>([])

    /// pgvector's HNSW indexes `vector` columns of at most this many dimensions; a
    /// collection of more is searched by exact scan only.
    static let maximumIndexedDimension = 2_000

    package init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.client = PostgresClient(configuration: configuration.client(), backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs the connection pool until cancelled or shut down gracefully.
    package func run() async {
        await client.run()
    }

    // MARK: - VectorIndex

    package func upsert(_ chunks: [IndexedChunk], collection: String) async throws {
        guard let dimension = chunks.first?.vector.count else { return }
        guard dimension > 0 else {
            throw VectorIndexError(.dimensionMismatch, "a vector of no dimension for collection \(collection)")
        }
        // The last of several chunks with the same file and index wins, as if written in turn
        // (one INSERT … ON CONFLICT may not touch a row twice); rows are written in key order,
        // so two upserts of overlapping chunks lock them in the same order and never deadlock.
        var latest: [ChunkKey: Int] = [:]
        for (position, chunk) in chunks.enumerated() {
            latest[ChunkKey(fileID: chunk.fileID, index: chunk.index)] = position
        }
        let kept = latest.sorted { ($0.key.fileID, $0.key.index) < ($1.key.fileID, $1.key.index) }.map { chunks[$0.value] }
        try await transaction("writing \(kept.count) chunks to collection \(collection)") { connection in
            try await connection.query(
                "INSERT INTO promptline_vector_collections (name, dims) VALUES (\(collection), \(dimension)) ON CONFLICT DO NOTHING",
                logger: self.logger
            )
            // Locks the collection's row until commit, so it cannot be removed (and made
            // again with another dimension) between this check and the insert.
            var stored: Int?
            for try await dims in try await connection.query(
                "SELECT dims FROM promptline_vector_collections WHERE name = \(collection) FOR SHARE",
                logger: self.logger
            ).decode(Int.self) {
                stored = dims
            }
            let expected = stored ?? dimension
            if let wrong = kept.first(where: { $0.vector.count != expected }) {
                throw VectorIndexError(
                    .dimensionMismatch,
                    "chunk \(wrong.index) of file \(wrong.fileID) has \(wrong.vector.count) dimensions; collection \(collection) has \(expected)"
                )
            }
            try await connection.query(
                """
                INSERT INTO promptline_vector_chunks (collection, file_id, idx, dims, text, embedding)
                SELECT \(collection), f, i, \(expected), t, e::vector
                FROM unnest(\(kept.map(\.fileID))::text[], \(kept.map(\.index))::int8[], \(kept.map(\.text))::text[], \(kept.map { Self.literal($0.vector) })::text[]) AS u(f, i, t, e)
                ON CONFLICT (collection, file_id, idx) DO UPDATE SET dims = excluded.dims, text = excluded.text, embedding = excluded.embedding
                """,
                logger: self.logger
            )
        }
        // Once per dimension and process: cheap, and it repairs an instance that stopped
        // between making a collection and its index.
        try await ensureHNSWIndex(dimension: dimension)
    }

    package func remove(fileID: String, collection: String) async throws {
        try await withConnection("removing file \(fileID) from collection \(collection)") { connection in
            try await connection.query(
                "DELETE FROM promptline_vector_chunks WHERE collection = \(collection) AND file_id = \(fileID)",
                logger: self.logger
            )
        }
    }

    package func removeCollection(_ collection: String) async throws {
        // The chunks go with it (ON DELETE CASCADE).
        try await withConnection("removing collection \(collection)") { connection in
            try await connection.query("DELETE FROM promptline_vector_collections WHERE name = \(collection)", logger: self.logger)
        }
    }

    package func count(fileID: String, collection: String) async throws -> Int {
        try await withConnection("counting the chunks of file \(fileID) in collection \(collection)") { connection in
            var total = 0
            for try await count in try await connection.query(
                "SELECT count(*) FROM promptline_vector_chunks WHERE collection = \(collection) AND file_id = \(fileID)",
                logger: self.logger
            ).decode(Int.self) {
                total = count
            }
            return total
        }
    }

    // MARK: - Helpers

    /// pgvector's text form of a vector, `[1,2.5,-3]`.
    static func literal(_ vector: [Float]) -> String {
        "[" + vector.map { "\($0)" }.joined(separator: ",") + "]"
    }

    /// Runs `body` on a pooled connection, turning whatever PostgreSQL or the connection
    /// threw into a ``VectorIndexError`` that names the server and what was being done, never
    /// the password. The pool retries a server that does not answer for ever; when no
    /// connection comes within ``Configuration/connectionWait`` the operation fails as
    /// `unavailable` instead of waiting with it (an operation that has its connection is
    /// never cut short).
    @discardableResult
    func withConnection<Result: Sendable>(
        _ doing: @autoclosure () -> String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let leased = LeaseFlag()
        let wait = configuration.connectionWait
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    try await self.client.withConnection { connection in
                        leased.markLeased()
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: wait)
                    if leased.isLeased { return nil }
                    throw NoConnection(wait: wait)
                }
                while let next = try await group.next() {
                    if let result = next {
                        group.cancelAll()
                        return result
                    }
                }
                throw CancellationError()
            }
        } catch let error as VectorIndexError {
            throw error
        } catch {
            throw Self.unavailable(error, doing: doing(), server: configuration.description)
        }
    }

    /// Runs `body` in a transaction of one pooled connection: committed when it returns,
    /// rolled back when it throws, and its own error thrown as it was.
    @discardableResult
    func transaction<Result: Sendable>(
        _ doing: @autoclosure () -> String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection(doing()) { connection in
            try await connection.query("BEGIN", logger: self.logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: self.logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: self.logger)
                throw error
            }
        }
    }

    static func unavailable(_ error: any Error, doing: String, server: String) -> VectorIndexError {
        var detail: String
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                detail = message
                if let state = error.serverInfo?[.sqlState] { detail += " (SQLSTATE \(state))" }
            } else {
                detail = error.code.description
                if let underlying = error.underlying { detail += ": \(underlying)" }
            }
        } else if let error = error as? NoConnection {
            detail = "no connection within \(error.wait)"
        } else {
            detail = "\(error)"
        }
        return VectorIndexError(.unavailable, "PostgreSQL at \(server), \(doing): \(detail)")
    }
}
