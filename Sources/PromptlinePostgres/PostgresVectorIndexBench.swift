import Logging
import PostgresNIO
import PromptlineKnowledge

/// Measures a PostgreSQL vector index: loads vectors into a fresh collection, runs
/// searches over every file, and compares each answer with the exact one computed here by
/// brute force. For `promptline bench --scenarios knowledge`, which prints the report.
///
/// What the vectors look like decides the recall: vectors drawn uniformly at random in
/// hundreds of dimensions are HNSW's worst case (every point is nearly as far as every
/// other, so the graph has no neighbourhoods to follow), while embeddings of text gather
/// in clusters. Feed it clustered vectors, or real embeddings, for a figure that means
/// something for retrieval; uniform ones show the floor.
package enum PostgresVectorIndexBench {
    /// What one run measured.
    package struct Report: Sendable, CustomStringConvertible {
        package var vectors: Int
        package var dimension: Int
        package var queries: Int
        /// Seconds to write every vector (batches of ``PostgresVectorIndexBench/batchSize``),
        /// HNSW index maintenance included.
        package var loadSeconds: Double
        /// The median time of one search, in milliseconds.
        package var searchP50Milliseconds: Double
        /// The share of the exact top `limit` that the index returned, averaged over the queries.
        package var recall: Double
        package var limit: Int

        package var description: String {
            let p50 = (searchP50Milliseconds * 100).rounded() / 100
            let recallText = (recall * 1000).rounded() / 1000
            return "\(vectors) vectors of \(dimension): loaded in \(Int(loadSeconds.rounded())) s, search p50 \(p50) ms, recall@\(limit) \(recallText) over \(queries) queries"
        }
    }

    /// Chunks written per upsert.
    package static let batchSize = 1_000

    /// Loads `vectors` (files of `chunksPerFile` chunks) into a new collection of the index
    /// at `url`, searches for each of `queries` over every file, and removes the collection.
    /// Searches over more than ``PostgresVectorIndex/Configuration/exactSearchLimit`` chunks
    /// take the HNSW plan, so a large set measures the approximate index.
    package static func run(
        url: String,
        vectors: [[Float]],
        queries: [[Float]],
        limit: Int = 10,
        chunksPerFile: Int = 1_000,
        logger: Logger
    ) async throws -> Report {
        try await run(configuration: .init(url: url), vectors: vectors, queries: queries, limit: limit, chunksPerFile: chunksPerFile, logger: logger)
    }

    /// ``run(url:vectors:queries:limit:chunksPerFile:logger:)`` with settings of its own
    /// (`efSearch`, to trade recall for time).
    package static func run(
        configuration: PostgresVectorIndex.Configuration,
        vectors: [[Float]],
        queries: [[Float]],
        limit: Int = 10,
        chunksPerFile: Int = 1_000,
        logger: Logger
    ) async throws -> Report {
        let index = PostgresVectorIndex(configuration: configuration, logger: logger)
        let collection = "bench_\(UInt64.random(in: 0...UInt64.max))"
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await index.run() }
            defer { group.cancelAll() }
            try await index.migrate()
            do {
                let report = try await measure(index, collection: collection, vectors: vectors, queries: queries, limit: limit, chunksPerFile: chunksPerFile)
                try await index.removeCollection(collection)
                return report
            } catch {
                try? await index.removeCollection(collection)
                throw error
            }
        }
    }

    static func measure(
        _ index: PostgresVectorIndex,
        collection: String,
        vectors: [[Float]],
        queries: [[Float]],
        limit: Int,
        chunksPerFile: Int
    ) async throws -> Report {
        let clock = ContinuousClock()
        let loadStart = clock.now
        for start in stride(from: 0, to: vectors.count, by: batchSize) {
            let batch = (start..<min(start + batchSize, vectors.count)).map { number in
                IndexedChunk(fileID: "file-\(number / chunksPerFile)", index: number % chunksPerFile, text: "\(number)", vector: vectors[number])
            }
            try await index.upsert(batch, collection: collection)
        }
        let loadTime = clock.now - loadStart
        try await index.withConnection("analysing the chunks") { connection in
            try await connection.query("ANALYZE promptline_vector_chunks", logger: index.logger)
        }

        let files = Set((0...(max(vectors.count - 1, 0) / chunksPerFile)).map { "file-\($0)" })
        let norms = vectors.map(norm)
        var times: [Duration] = []
        var recalled = 0
        for query in queries {
            let searchStart = clock.now
            let found = try await index.search(query, collection: collection, files: files, limit: limit)
            times.append(clock.now - searchStart)
            let exact = exactTop(limit, of: query, in: vectors, norms: norms)
            recalled += Set(found.compactMap { Int($0.text) }).intersection(exact).count
        }
        times.sort()
        let p50 = times.isEmpty ? .zero : times[times.count / 2]
        return Report(
            vectors: vectors.count,
            dimension: vectors.first?.count ?? 0,
            queries: queries.count,
            loadSeconds: seconds(loadTime),
            searchP50Milliseconds: seconds(p50) * 1_000,
            recall: queries.isEmpty ? 0 : Double(recalled) / Double(queries.count * min(limit, max(vectors.count, 1))),
            limit: limit
        )
    }

    /// The numbers of the `limit` vectors of highest cosine similarity to `query`.
    static func exactTop(_ limit: Int, of query: [Float], in vectors: [[Float]], norms: [Float]) -> Set<Int> {
        let queryNorm = norm(query)
        var best: [(score: Float, number: Int)] = []
        for (number, vector) in vectors.enumerated() {
            var dot: Float = 0
            vector.withUnsafeBufferPointer { v in
                query.withUnsafeBufferPointer { q in
                    for position in 0..<min(v.count, q.count) { dot += v[position] * q[position] }
                }
            }
            let score = dot / max(norms[number] * queryNorm, .leastNormalMagnitude)
            if best.count < limit || score > best[best.count - 1].score {
                let place = best.firstIndex { $0.score < score } ?? best.count
                best.insert((score, number), at: place)
                if best.count > limit { best.removeLast() }
            }
        }
        return Set(best.map(\.number))
    }

    static func norm(_ vector: [Float]) -> Float {
        vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
