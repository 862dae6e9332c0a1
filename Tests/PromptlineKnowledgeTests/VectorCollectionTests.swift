import PromptlineKnowledge
import Testing

/// The in-memory collection: writes in place (replace, swap-remove) leave it answering as a
/// collection built from scratch with the same chunks would.
@Suite struct VectorCollectionTests {
    static func chunk(_ file: String, _ index: Int, _ vector: [Float]) -> IndexedChunk {
        IndexedChunk(fileID: file, index: index, text: "", vector: vector)
    }

    @Test func writesInPlaceAnswerAsAFreshCollection() throws {
        let vectors = VectorMatrixTests.randomVectors(count: 600, dimension: 12, seed: 21)
        var collection = VectorCollection(dimension: 12)
        try collection.upsert(vectors.enumerated().map { Self.chunk("file-\($0.offset % 6)", $0.offset / 6, $0.element) })
        // Rewrite file-1's chunks with new vectors, then remove file-2 and file-4.
        let rewritten = VectorMatrixTests.randomVectors(count: 100, dimension: 12, seed: 22)
        try collection.upsert(rewritten.enumerated().map { Self.chunk("file-1", $0.offset, $0.element) })
        collection.remove(fileID: "file-2")
        collection.remove(fileID: "file-4")

        var fresh = VectorCollection(dimension: 12)
        for (offset, vector) in vectors.enumerated() where ![1, 2, 4].contains(offset % 6) {
            try fresh.upsert([Self.chunk("file-\(offset % 6)", offset / 6, vector)])
        }
        try fresh.upsert(rewritten.enumerated().map { Self.chunk("file-1", $0.offset, $0.element) })

        #expect(collection.count == 400)
        #expect(collection.count(fileID: "file-2") == 0)
        #expect(collection.count(fileID: "file-1") == 100)
        let files: Set<String> = (0..<6).map { "file-\($0)" }.reduce(into: []) { $0.insert($1) }
        for query in VectorMatrixTests.randomVectors(count: 5, dimension: 12, seed: 23) {
            let found = collection.search(query, files: files, limit: 20)
            let expected = fresh.search(query, files: files, limit: 20)
            #expect(found.map { "\($0.fileID)/\($0.index)" } == expected.map { "\($0.fileID)/\($0.index)" })
            #expect(!found.contains { $0.fileID == "file-2" || $0.fileID == "file-4" })
        }
    }

    @Test func aWrongDimensionChangesNothing() throws {
        var collection = VectorCollection(dimension: 3)
        try collection.upsert([Self.chunk("a", 0, [1, 0, 0])])
        #expect(throws: VectorIndexError.self) {
            try collection.upsert([Self.chunk("b", 0, [1, 0, 0]), Self.chunk("b", 1, [1, 0])])
        }
        #expect(collection.count == 1)
        #expect(collection.count(fileID: "b") == 0)
    }

    @Test func aFilterOfSomeFilesOrNone() throws {
        var collection = VectorCollection(dimension: 2)
        try collection.upsert([Self.chunk("a", 0, [1, 0]), Self.chunk("b", 0, [1, 0.1]), Self.chunk("c", 0, [0, 1])])
        #expect(collection.search([1, 0], files: ["b", "c"], limit: 5).map(\.fileID) == ["b", "c"])
        #expect(collection.search([1, 0], files: ["z"], limit: 5).isEmpty)
        #expect(collection.search([1, 0], files: [], limit: 5).isEmpty)
        collection.remove(fileID: "a")
        #expect(collection.search([1, 0], files: ["a"], limit: 5).isEmpty)
        #expect(collection.search([1, 0], files: ["a", "b", "c"], limit: 1).map(\.fileID) == ["b"])
    }
}
