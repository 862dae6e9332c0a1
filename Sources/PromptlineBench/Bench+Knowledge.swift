import Foundation
import Logging
import PromptlineKnowledge
import PromptlinePostgres
import PromptlineSQLite

/// The knowledge scenario: ingestion (a long document attached to a vector store of a
/// server whose mock embeds in 0 ms, in chunks stored per second); exact vector search
/// through the embedded index (``SQLiteVectorIndex``) beside numpy's brute force on the same
/// vectors and queries; and with `--vector-url`, pgvector's search time and recall@10.
extension Bench {
    func knowledge(progress: (String) -> Void) async throws -> [Figure] {
        let ingestion = try await ingestionFigures(progress: progress)
        let search = try await knowledgeSearchFigures(progress: progress)
        guard let url = configuration.vectorURL else { return ingestion + search }
        return ingestion + search + (try await pgvectorFigures(url: url, progress: progress))
    }

    /// pgvector through ``PostgresVectorIndex``: search p50 and recall@10 against the exact
    /// answer, on clustered vectors (100 centres, each vector its centre plus noise), as
    /// text embeddings gather; uniform random vectors are HNSW's worst case and no
    /// retrieval's (see ``PostgresVectorIndexBench``).
    func pgvectorFigures(url: String, progress: (String) -> Void) async throws -> [Figure] {
        let dimension = configuration.knowledgeDimension
        var centres = SeededVectors(seed: 3)
        let clusters = (0..<100).map { _ in centres.next(dimension: dimension) }
        var noise = SeededVectors(seed: 4)
        func clustered(_ number: Int) -> [Float] {
            VectorMatrix.normalised(zip(clusters[number % clusters.count], noise.next(dimension: dimension)).map { $0 + 0.6 * $1 })
        }
        let vectors = (0..<configuration.pgvectorVectors).map(clustered)
        let queries = (0..<configuration.knowledgeQueries).map { clustered($0 * 7 + 1) }
        var p50s: [Double] = []
        var recalls: [Double] = []
        for run in 1...configuration.runs {
            let report = try await PostgresVectorIndexBench.run(
                url: url, vectors: vectors, queries: queries, logger: Logger(label: "bench.pgvector")
            )
            progress("knowledge run \(run): pgvector \(report)")
            p50s.append(report.searchP50Milliseconds)
            recalls.append(report.recall)
        }
        let setup = "\(vectors.count) clustered vectors of \(dimension) dimensions (100 centres), \(queries.count) queries, HNSW (ef_search 100, iterative scan) through PostgresVectorIndex"
        return [
            Figure(name: "pgvector search", unit: "ms", runs: p50s, higherIsBetter: false, setup: "p50 of top-10 searches over every file; \(setup)", decimals: 2),
            Figure(name: "pgvector recall@10", unit: "", runs: recalls, setup: "share of the exact top 10 (brute force here) that pgvector returned", decimals: 3),
        ]
    }


    /// Chunks/s of ingestion: the summary scenario's document (``Configuration/summaryPages``
    /// pages) uploaded, attached to a new vector store (`auto`: 800 tokens, 400 overlap),
    /// and timed until the file reads `completed`: extraction, cutting, the embedding calls
    /// of `--embedding-batch` chunks as tasks, and the vectors written to the embedded index.
    func ingestionFigures(progress: (String) -> Void) async throws -> [Figure] {
        let mock = try startMock(latencyMs: 0)
        defer { mock.stop() }
        let document = Self.document(pages: configuration.summaryPages)
        var rates: [Double] = []
        var chunkCounts: [Int] = []
        for run in 1...configuration.runs {
            let server = try startServer(name: "knowledge-\(run)", upstreamPort: mock.port, workers: configuration.drainWorkers)
            defer { server.process.stop() }
            let base = "http://127.0.0.1:\(server.port)"
            let fileID = try await upload(document, filename: "long.txt", to: base)
            let start = ContinuousClock.now
            let store = try await postJSON("\(base)/v1/vector_stores", body: ["file_ids": [fileID]])["id"] as? String ?? ""
            var file: [String: Any] = [:]
            while true {
                file = try await getJSON("\(base)/v1/vector_stores/\(store)/files/\(fileID)")
                if file["status"] as? String != "in_progress" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let took = (ContinuousClock.now - start).seconds
            guard file["status"] as? String == "completed" else { throw BenchError("ingestion ended \(file["status"] ?? "?"): \(file["last_error"] ?? "")") }
            // The file's step answers how many chunks it stored, once it has finished (a moment
            // after it marked the file).
            var step: [String: Any] = [:]
            while step["status"] as? String != "completed" {
                step = try await getJSON("\(base)/api/tasks/ingest:\(store):\(fileID):1")
            }
            let result = (step["result"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let chunks = result?["chunks"] as? Int ?? 0
            chunkCounts.append(chunks)
            rates.append(Double(chunks) / took)
            progress("knowledge run \(run): \(chunks) chunks ingested in \(String(format: "%.2f", took)) s = \(Int(rates.last!)) chunks/s")
        }
        let setup = "\(configuration.summaryPages)-page text document (\(String(format: "%.1f", Double(document.count) / 1_000_000)) MB, \(chunkCounts.first ?? 0) chunks of 800 tokens with 400 overlap), 0 ms mock embedding 384 dimensions, 256 chunks a call, \(configuration.drainWorkers) workers, embedded store and index"
        return [Figure(name: "ingestion", unit: "chunks/s", runs: rates, setup: setup)]
    }

    /// Search latency: `knowledgeVectors` seeded random unit vectors of `knowledgeDimension`
    /// written to a fresh index, loaded into memory by a first search, then per run
    /// `knowledgeQueries` top-10 searches over every file, each timed alone, after a warm-up.
    func knowledgeSearchFigures(progress: (String) -> Void) async throws -> [Figure] {
        let count = configuration.knowledgeVectors
        let dimension = configuration.knowledgeDimension
        let queryCount = configuration.knowledgeQueries
        let warmup = 20
        let files = 1_000
        progress("knowledge: to repeat these figures: promptline bench --scenarios knowledge --runs \(configuration.runs) --knowledge-vectors \(count) --knowledge-queries \(queryCount) (dimension \(dimension), seeds 1 and 2)")
        let directory = "\(workDirectory)/knowledge"
        let vectorsPath = "\(directory)/vectors.f32"
        let queriesPath = "\(directory)/queries.f32"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        // The vectors, in batches of 1,000: chunk i is chunk i / files of file i % files, its
        // text "i", and row i of the float32 file numpy reads.
        let index = try await SQLiteVectorIndex.open(.init(directory: directory))
        var generator = SeededVectors(seed: 1)
        _ = FileManager.default.createFile(atPath: vectorsPath, contents: nil)
        let vectorsFile = try FileHandle(forWritingTo: URL(fileURLWithPath: vectorsPath))
        let writeStart = ContinuousClock.now
        for start in stride(from: 0, to: count, by: 1_000) {
            let chunks = (start..<min(start + 1_000, count)).map { row in
                IndexedChunk(fileID: "file-\(row % files)", index: row / files, text: "\(row)", vector: generator.next(dimension: dimension))
            }
            try vectorsFile.write(contentsOf: Self.float32(chunks.map(\.vector)))
            try await index.upsert(chunks, collection: "bench")
        }
        try vectorsFile.close()
        progress("knowledge: \(count) vectors written to the index in \(String(format: "%.1f", (ContinuousClock.now - writeStart).seconds)) s (not the ingestion figure: no extraction, no embedding)")

        var queryGenerator = SeededVectors(seed: 2)
        let queries = (0..<(warmup + queryCount)).map { _ in queryGenerator.next(dimension: dimension) }
        try Self.float32(queries).write(to: URL(fileURLWithPath: queriesPath))
        let fileIDs = Set((0..<files).map { "file-\($0)" })

        let loadStart = ContinuousClock.now
        _ = try await index.search(queries[0], collection: "bench", files: fileIDs, limit: 10)
        let load = (ContinuousClock.now - loadStart).seconds
        progress("knowledge: first search (loads \(count) vectors into memory) \(String(format: "%.2f", load)) s")

        // Each run times the index's searches, then numpy's on the same queries, so that a
        // noisy spell of this shared machine lands on both alike.
        var p50s: [Double] = []
        var p99s: [Double] = []
        var ours: [[Int]] = []
        var numpy: NumpySearch?
        var numpyMissing = false
        for run in 1...configuration.runs {
            var latencies: [Duration] = []
            var found: [[Int]] = []
            for (number, query) in queries.enumerated() {
                let start = ContinuousClock.now
                let matches = try await index.search(query, collection: "bench", files: fileIDs, limit: 10)
                let took = ContinuousClock.now - start
                guard number >= warmup else { continue }
                latencies.append(took)
                found.append(matches.compactMap { Int($0.text) })
            }
            let summary = LatencySummary(latencies)
            p50s.append(summary.p50.seconds * 1_000)
            p99s.append(summary.p99.seconds * 1_000)
            ours = found
            progress("knowledge run \(run): index search \(summary.line)")
            guard !numpyMissing else { continue }
            guard let measured = try await numpySearch(
                vectorsPath: vectorsPath, queriesPath: queriesPath, count: count, dimension: dimension, warmup: warmup, progress: progress)
            else {
                numpyMissing = true
                continue
            }
            progress("knowledge run \(run): numpy \(measured.version) p50 \(String(format: "%.3f", measured.p50[0])) p99 \(String(format: "%.3f", measured.p99[0])) ms")
            numpy = NumpySearch(version: measured.version, p50: (numpy?.p50 ?? []) + measured.p50, p99: (numpy?.p99 ?? []) + measured.p99, top: measured.top)
        }
        try await index.close()

        let setup = "\(count) seeded random unit vectors of \(dimension) dimensions in \(files) files, \(queryCount) queries after \(warmup) of warm-up, exact top 10 over every file"
        var figures = [
            Figure(name: "vector search", unit: "ms", runs: p50s, higherIsBetter: false,
                   setup: "p50 of SQLiteVectorIndex.search, in memory after its first search loaded the collection, texts of the 10 read from SQLite; \(setup)", decimals: 2),
            Figure(name: "vector p99", unit: "ms", runs: p99s, higherIsBetter: false, setup: "p99 of the same searches", decimals: 2),
            Figure(name: "vector load", unit: "s", runs: [load], higherIsBetter: false,
                   setup: "the first search: reading the \(count) vectors from vectors.sqlite into one normalised matrix", decimals: 2),
        ]
        guard let numpy else { return figures }
        let agreeing = zip(ours, numpy.top).filter { Set($0) == Set($1) }.count
        progress("knowledge: top 10 equal to numpy's for \(agreeing) of \(ours.count) queries")
        let ratios = zip(numpy.p50, p50s).map { $0 / $1 }
        figures += [
            Figure(name: "numpy search", unit: "ms", runs: numpy.p50, higherIsBetter: false,
                   setup: "p50 of numpy \(numpy.version) brute force on the same vectors and queries (normalised matrix, M @ q, argpartition top 10), in one python3 process", decimals: 2),
            Figure(name: "numpy p99", unit: "ms", runs: numpy.p99, higherIsBetter: false, setup: "p99 of the same", decimals: 2),
            Figure(name: "numpy/ours p50", unit: "×", runs: ratios,
                   setup: "numpy's p50 over the index's, run by run: above 1 the index is faster", decimals: 2),
            Figure(name: "top-10 = numpy", unit: "%", runs: [100 * Double(agreeing) / Double(max(1, ours.count))],
                   setup: "queries whose top 10 (as a set) equals numpy's",
                   alarm: agreeing == ours.count ? nil : "the index's top 10 differs from numpy's for \(ours.count - agreeing) of \(ours.count) queries"),
        ]
        return figures
    }

    /// Vectors as float32 little-endian bytes, row after row.
    static func float32(_ vectors: [[Float]]) -> Data {
        var data = Data(capacity: vectors.reduce(0) { $0 + $1.count } * 4)
        for vector in vectors {
            for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        return data
    }
}
