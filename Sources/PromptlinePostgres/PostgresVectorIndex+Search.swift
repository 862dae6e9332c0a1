import PostgresNIO
import PromptlineKnowledge

extension PostgresVectorIndex {
    /// The closest chunks of the named files, by one of two plans.
    ///
    /// First one query reads the collection's dimension and how many chunks the named
    /// files hold (a count on the primary key, which stops past ``Configuration/exactSearchLimit``).
    ///
    /// - When they hold at most ``Configuration/exactSearchLimit`` chunks (the usual case:
    ///   a vector store of a few files, or a search narrowed by attributes), the search is
    ///   exact: those rows are read through the primary key and sorted by cosine distance.
    ///   An approximate index is no help here: HNSW walks the whole collection's graph and
    ///   filters afterwards, so most of what it visits is thrown away.
    /// - Otherwise it orders by `embedding::vector(N) <=> query` with `WHERE dims = N`, which
    ///   the partial HNSW index of that dimension answers. With pgvector 0.8+ each
    ///   connection has `hnsw.iterative_scan = relaxed_order`, so the scan goes on until it
    ///   has `limit` rows of the named files (re-sorted here, since relaxed order may
    ///   return them slightly out of order). Should it still come back short (an older
    ///   pgvector, or more than `hnsw.max_scan_tuples` visited), the exact plan answers
    ///   instead: a search never returns fewer chunks than the files hold, up to `limit`.
    package func search(_ query: [Float], collection: String, files: Set<String>, limit: Int) async throws -> [VectorMatch] {
        guard limit > 0, !files.isEmpty else { return [] }
        let names = Array(files)
        let vector = Self.literal(query)
        // The count reads the rows it counts, so it stops once it knows both whether the
        // exact plan is ruled out and how many chunks a full answer holds.
        let countLimit = max(configuration.exactSearchLimit, limit) + 1
        return try await withConnection("searching collection \(collection)") { connection in
            var found: (dims: Int, chunks: Int)?
            for try await row in try await connection.query(
                """
                SELECT c.dims::int8, (SELECT count(*) FROM (
                    SELECT 1 FROM promptline_vector_chunks k WHERE k.collection = c.name AND k.file_id = ANY(\(names)::text[]) LIMIT \(countLimit)
                ) AS counted)
                FROM promptline_vector_collections c WHERE c.name = \(collection)
                """,
                logger: self.logger
            ).decode((Int, Int).self) {
                found = row
            }
            guard let found else { return [] }
            guard query.count == found.dims else {
                throw VectorIndexError(
                    .dimensionMismatch,
                    "a query of \(query.count) dimensions for collection \(collection) of \(found.dims)"
                )
            }
            guard found.chunks > 0 else { return [] }
            let wanted = min(limit, found.chunks)
            if found.chunks > self.configuration.exactSearchLimit && found.dims <= Self.maximumIndexedDimension {
                let approximate = try await self.approximateSearch(on: connection, vector, dimension: found.dims, collection: collection, files: names, limit: limit)
                if approximate.count >= wanted { return approximate }
                self.logger.debug("HNSW search came back short; searching exactly", metadata: ["collection": "\(collection)", "found": "\(approximate.count)", "wanted": "\(wanted)"])
            }
            return try await self.exactSearch(on: connection, vector, collection: collection, files: names, limit: limit)
        }
    }

    /// Every chunk of the files, sorted by cosine distance: `embedding` without the cast,
    /// so no HNSW index matches and the rows come through the primary key.
    func exactSearch(on connection: PostgresConnection, _ vector: String, collection: String, files: [String], limit: Int) async throws -> [VectorMatch] {
        try await matches(
            on: connection,
            """
            SELECT file_id, idx::int8, text, 1 - (embedding <=> \(vector)::vector) AS score
            FROM promptline_vector_chunks
            WHERE collection = \(collection) AND file_id = ANY(\(files)::text[])
            ORDER BY embedding <=> \(vector)::vector
            LIMIT \(limit)
            """
        )
    }

    /// The HNSW plan: the dimension is written into the SQL (it is an integer) because both
    /// the cast's type modifier and the partial index's `WHERE dims = N` must be constants
    /// for the planner to match the index. The nearest rows are materialised and sorted
    /// again: with `relaxed_order` the index may return them slightly out of order, and a
    /// plain subquery's ORDER BY would be dropped as already satisfied.
    func approximateSearch(on connection: PostgresConnection, _ vector: String, dimension: Int, collection: String, files: [String], limit: Int) async throws -> [VectorMatch] {
        try await matches(on: connection, Self.approximateQuery(vector, dimension: dimension, collection: collection, files: files, limit: limit))
    }

    package static func approximateQuery(_ vector: String, dimension: Int, collection: String, files: [String], limit: Int) -> PostgresQuery {
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 400, interpolationCount: 3)
        sql.appendLiteral("""
            WITH nearest AS MATERIALIZED (
                SELECT file_id, idx::int8 AS idx, text, embedding::vector(\(dimension)) <=> 
            """)
        sql.appendInterpolation(vector)
        sql.appendLiteral("::vector(\(dimension)) AS distance FROM promptline_vector_chunks WHERE dims = \(dimension) AND collection = ")
        sql.appendInterpolation(collection)
        sql.appendLiteral(" AND file_id = ANY(")
        sql.appendInterpolation(files)
        sql.appendLiteral("::text[]) ORDER BY distance LIMIT \(limit)) SELECT file_id, idx, text, 1 - distance FROM nearest ORDER BY distance")
        return PostgresQuery(stringInterpolation: sql)
    }

    func matches(on connection: PostgresConnection, _ query: PostgresQuery) async throws -> [VectorMatch] {
        var matches: [VectorMatch] = []
        for try await (fileID, index, text, score) in try await connection.query(query, logger: logger).decode((String, Int, String, Double).self) {
            matches.append(VectorMatch(fileID: fileID, index: index, text: text, score: Float(score)))
        }
        return matches
    }
}
