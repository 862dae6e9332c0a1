import PromptlineKnowledge

/// The contract every ``VectorIndex`` must honour, run the way ``DocumentContract`` is:
///
/// ```swift
/// @Test(arguments: VectorIndexContract.cases)
/// func contract(_ contractCase: VectorIndexContract.Case) async throws {
///     try await contractCase.run({ try await MyIndex.open(…) }, close: { … })
/// }
/// ```
///
/// Each case gets one fresh index and its own collection names, so an index shared by
/// several cases (one PostgreSQL database) works as well as a fresh one.
package enum VectorIndexContract {
    package typealias Factory = @Sendable () async throws -> any VectorIndex
    package typealias Closer = @Sendable (any VectorIndex) async throws -> Void

    /// One behaviour of the contract, checked against a fresh index.
    package struct Case: Sendable, CustomStringConvertible {
        package let name: String
        let check: @Sendable (any VectorIndex, _ prefix: String) async throws -> Void

        package var description: String { name }

        /// Runs the case against an index made by `factory`, then closes it with `close`.
        package func run(_ factory: Factory, close: Closer = { _ in }) async throws {
            let index = try await factory()
            let prefix = "vs_contract_\(UInt64.random(in: 0...UInt64.max))_"
            do {
                try await check(index, prefix)
            } catch {
                try? await close(index)
                throw error
            }
            try await close(index)
        }
    }

    package static let cases: [Case] = [
        Case(name: "the closest chunk comes first", check: closestFirst),
        Case(name: "writing a chunk again replaces it", check: upsertReplaces),
        Case(name: "a search sees only the files it names", check: onlyNamedFiles),
        Case(name: "a search over a few files of many still fills its limit", check: fewFilesOfManyFillLimit),
        Case(name: "removing a file removes its chunks", check: removeFile),
        Case(name: "removing a collection removes everything in it", check: removeCollection),
        Case(name: "collections are separate", check: collectionsAreSeparate),
        Case(name: "a vector of another dimension is refused and changes nothing", check: dimensionMismatch),
        Case(name: "the exact top ten of a thousand vectors", check: exactTopTen),
    ]

    // MARK: - Fixtures

    /// A unit vector pointing mostly along `axis` of `dimension`, tilted by `tilt` towards the next axis.
    static func unit(_ axis: Int, tilt: Float = 0, dimension: Int = 8) -> [Float] {
        var vector = [Float](repeating: 0, count: dimension)
        vector[axis % dimension] = 1
        vector[(axis + 1) % dimension] += tilt
        return normalised(vector)
    }

    static func normalised(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }

    /// Reproducible pseudo-random unit vectors (xorshift), so a failure can be replayed.
    static func randomVectors(count: Int, dimension: Int, seed: UInt64) -> [[Float]] {
        var state = seed | 1
        func next() -> Float {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Float(state % 2_000_001) / 1_000_000 - 1
        }
        return (0..<count).map { _ in normalised((0..<dimension).map { _ in next() }) }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    }

    static func chunk(_ file: String, _ index: Int, _ vector: [Float]) -> IndexedChunk {
        IndexedChunk(fileID: file, index: index, text: "\(file) part \(index)", vector: vector)
    }

    // MARK: - Cases

    static func closestFirst(_ index: any VectorIndex, _ prefix: String) async throws {
        let collection = prefix + "a"
        try await index.upsert(
            (0..<6).map { chunk("file-a", $0, unit($0)) } + [chunk("file-b", 0, unit(2, tilt: 0.3))],
            collection: collection
        )
        let found = try await index.search(unit(2, tilt: 0.1), collection: collection, files: ["file-a", "file-b"], limit: 3)
        try checkEqual(found.map(\.text), ["file-a part 2", "file-b part 0", "file-a part 3"], "the closest chunks, closest first")
        try check(found[0].score > 0.99 && found[0].score <= 1.0001, "a near-identical vector scores about 1, not \(found[0].score)")
        try check(zip(found, found.dropFirst()).allSatisfy { $0.score >= $1.score }, "scores fall: \(found.map(\.score))")
        try checkEqual(found[1].fileID, "file-b", "a match names its file")
        try checkEqual(found[0].index, 2, "a match names its place in the file")
        let unknown = try await index.search(unit(0), collection: prefix + "never-written", files: ["file-a"], limit: 3)
        try check(unknown.isEmpty, "an unknown collection finds nothing, not \(unknown.count) chunks")
    }

    static func upsertReplaces(_ index: any VectorIndex, _ prefix: String) async throws {
        let collection = prefix + "a"
        try await index.upsert([chunk("file-a", 0, unit(0)), chunk("file-a", 1, unit(1))], collection: collection)
        try await index.upsert([IndexedChunk(fileID: "file-a", index: 1, text: "new text", vector: unit(4))], collection: collection)
        try checkEqual(try await index.count(fileID: "file-a", collection: collection), 2, "chunks after writing one again")
        let found = try await index.search(unit(4), collection: collection, files: ["file-a"], limit: 1)
        try checkEqual(found.map(\.text), ["new text"], "the chunk as written the second time")
        let old = try await index.search(unit(1), collection: collection, files: ["file-a"], limit: 2)
        try check(!old.contains { $0.text == "file-a part 1" }, "the replaced chunk is gone")
    }

    static func onlyNamedFiles(_ index: any VectorIndex, _ prefix: String) async throws {
        let collection = prefix + "a"
        try await index.upsert([chunk("file-a", 0, unit(0)), chunk("file-b", 0, unit(0, tilt: 0.5))], collection: collection)
        let onlyB = try await index.search(unit(0), collection: collection, files: ["file-b"], limit: 5)
        try checkEqual(onlyB.map(\.fileID), ["file-b"], "files of a search limited to file-b")
        let none = try await index.search(unit(0), collection: collection, files: [], limit: 5)
        try check(none.isEmpty, "a search naming no file finds nothing")
        let unknown = try await index.search(unit(0), collection: collection, files: ["file-z"], limit: 5)
        try check(unknown.isEmpty, "a search naming an unknown file finds nothing")
    }

    static func fewFilesOfManyFillLimit(_ index: any VectorIndex, _ prefix: String) async throws {
        let collection = prefix + "a"
        let vectors = randomVectors(count: 2_000, dimension: 32, seed: 7)
        var chunks: [IndexedChunk] = []
        for (number, vector) in vectors.enumerated() {
            chunks.append(IndexedChunk(fileID: "file-\(number % 200)", index: number / 200, text: "\(number)", vector: vector))
        }
        for start in stride(from: 0, to: chunks.count, by: 500) {
            try await index.upsert(Array(chunks[start..<min(start + 500, chunks.count)]), collection: collection)
        }
        // Two files of 200 (20 chunks): a filter after an approximate search would find few or none.
        let wanted: Set<String> = ["file-3", "file-117"]
        let found = try await index.search(vectors[0], collection: collection, files: wanted, limit: 10)
        try checkEqual(found.count, 10, "matches of a search over 2 files of 200 with limit 10")
        try check(found.allSatisfy { wanted.contains($0.fileID) }, "every match is of a named file: \(found.map(\.fileID))")
    }

    static func removeFile(_ index: any VectorIndex, _ prefix: String) async throws {
        let collection = prefix + "a"
        try await index.upsert([chunk("file-a", 0, unit(0)), chunk("file-a", 1, unit(1)), chunk("file-b", 0, unit(0))], collection: collection)
        try await index.remove(fileID: "file-a", collection: collection)
        try checkEqual(try await index.count(fileID: "file-a", collection: collection), 0, "chunks of a removed file")
        try checkEqual(try await index.count(fileID: "file-b", collection: collection), 1, "chunks of the file kept")
        let found = try await index.search(unit(0), collection: collection, files: ["file-a", "file-b"], limit: 5)
        try checkEqual(found.map(\.fileID), ["file-b"], "files found after removing file-a")
        try await index.remove(fileID: "file-never", collection: collection)
    }

    static func removeCollection(_ index: any VectorIndex, _ prefix: String) async throws {
        let collection = prefix + "a"
        try await index.upsert([chunk("file-a", 0, unit(0))], collection: collection)
        try await index.removeCollection(collection)
        try checkEqual(try await index.count(fileID: "file-a", collection: collection), 0, "chunks of a removed collection")
        try await index.removeCollection(prefix + "never-written")
        // A removed collection may be made again, with another dimension.
        try await index.upsert([chunk("file-a", 0, unit(0, dimension: 4))], collection: collection)
        try checkEqual(try await index.count(fileID: "file-a", collection: collection), 1, "chunks of the collection made again")
    }

    static func collectionsAreSeparate(_ index: any VectorIndex, _ prefix: String) async throws {
        try await index.upsert([chunk("file-a", 0, unit(0))], collection: prefix + "a")
        try await index.upsert([chunk("file-a", 0, unit(3)), chunk("file-a", 1, unit(4))], collection: prefix + "b")
        try checkEqual(try await index.count(fileID: "file-a", collection: prefix + "a"), 1, "chunks in collection a")
        let inB = try await index.search(unit(0), collection: prefix + "b", files: ["file-a"], limit: 5)
        try checkEqual(Set(inB.map(\.index)), [0, 1], "chunks found in collection b")
        try check(inB.allSatisfy { $0.score < 0.5 }, "collection b holds nothing near axis 0")
        try await index.remove(fileID: "file-a", collection: prefix + "b")
        try checkEqual(try await index.count(fileID: "file-a", collection: prefix + "a"), 1, "collection a after removing from b")
    }

    static func dimensionMismatch(_ index: any VectorIndex, _ prefix: String) async throws {
        let collection = prefix + "a"
        try await index.upsert([chunk("file-a", 0, unit(0))], collection: collection)
        do {
            try await index.upsert([chunk("file-b", 0, unit(0)), chunk("file-b", 1, unit(0, dimension: 5))], collection: collection)
            throw ContractFailure("an upsert with a vector of 5 dimensions into a collection of 8 was accepted")
        } catch let error as VectorIndexError {
            try checkEqual(error.code, .dimensionMismatch, "the error's code")
        }
        try checkEqual(try await index.count(fileID: "file-b", collection: collection), 0, "chunks of a refused upsert")
        do {
            _ = try await index.search(unit(0, dimension: 5), collection: collection, files: ["file-a"], limit: 1)
            throw ContractFailure("a search with a query of 5 dimensions in a collection of 8 was answered")
        } catch let error as VectorIndexError {
            try checkEqual(error.code, .dimensionMismatch, "the error's code")
        }
    }

    static func exactTopTen(_ index: any VectorIndex, _ prefix: String) async throws {
        let collection = prefix + "a"
        let vectors = randomVectors(count: 1_000, dimension: 64, seed: 42)
        try await index.upsert(
            vectors.enumerated().map { IndexedChunk(fileID: "file-\($0.offset % 10)", index: $0.offset / 10, text: "\($0.offset)", vector: $0.element) },
            collection: collection
        )
        let files = Set((0..<10).map { "file-\($0)" })
        for query in randomVectors(count: 5, dimension: 64, seed: 99) {
            let expected = vectors.indices.sorted { cosine(vectors[$0], query) > cosine(vectors[$1], query) }.prefix(10).map(String.init)
            let found = try await index.search(query, collection: collection, files: files, limit: 10)
            // An approximate index (HNSW) may miss one of ten; the embedded one never does.
            let overlap = Set(found.map(\.text)).intersection(expected).count
            try check(overlap >= 9, "the top ten holds \(overlap) of the exact top ten: \(found.map(\.text)) vs \(expected)")
            for match in found {
                let exact = cosine(vectors[Int(match.text)!], query)
                try check(abs(match.score - exact) < 1e-3, "the score of chunk \(match.text) is \(match.score), its cosine \(exact)")
            }
        }
    }
}
