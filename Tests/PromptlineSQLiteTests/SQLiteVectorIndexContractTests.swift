import Foundation
import PromptlineKnowledge
@testable import PromptlineSQLite
import PromptlineStoreContract
import Testing

/// The vector index contract, run against the embedded index, one fresh data directory per
/// case; and what only this index does: its file outlives it, and its copy in memory follows
/// the writes made after it was loaded.
@Suite struct SQLiteVectorIndexContractTests {
    @Test(.timeLimit(.minutes(1)), arguments: VectorIndexContract.cases)
    func contract(_ contractCase: VectorIndexContract.Case) async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await contractCase.run(
            { try await SQLiteVectorIndex.open(.init(directory: directory)) },
            close: { index in try await #require(index as? SQLiteVectorIndex).close() }
        )
    }

    /// The same contract with every scan sent to the index's queue.
    @Test(.timeLimit(.minutes(1)), arguments: VectorIndexContract.cases)
    func contractScanningOnTheQueue(_ contractCase: VectorIndexContract.Case) async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await contractCase.run(
            { try await SQLiteVectorIndex.open(.init(directory: directory, scanOnQueueAbove: 0)) },
            close: { index in try await #require(index as? SQLiteVectorIndex).close() }
        )
    }

    static func chunk(_ file: String, _ index: Int, _ vector: [Float]) -> IndexedChunk {
        IndexedChunk(fileID: file, index: index, text: "\(file) \(index) \u{0}é", vector: vector)
    }

    @Test func chunksSurviveReopening() async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await SQLiteVectorIndex.open(.init(directory: directory))
        try await first.upsert([Self.chunk("a", 0, [1, 0, 0]), Self.chunk("a", 1, [0, 3, 0])], collection: "c")
        try await first.close()
        #expect(FileManager.default.fileExists(atPath: "\(directory)/vectors.sqlite"))

        let second = try await SQLiteVectorIndex.open(.init(directory: directory))
        let found = try await second.search([0, 1, 0.1], collection: "c", files: ["a"], limit: 1)
        await #expect(throws: VectorIndexError.self) {
            try await second.upsert([Self.chunk("b", 0, [1, 0])], collection: "c")
        }
        try await second.close()
        #expect(found.map(\.text) == ["a 1 \u{0}é"])
        #expect(abs((found.first?.score ?? 0) - 0.995) < 0.001)
    }

    /// Writes after the first search change the copy in memory as they change the file: a
    /// fresh index (loading from the file) answers the same.
    @Test func memoryFollowsWritesAfterLoading() async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = try await SQLiteVectorIndex.open(.init(directory: directory))
        var generator = SystemRandomNumberGenerator()
        func random() -> [Float] { (0..<6).map { _ in Float.random(in: -1...1, using: &generator) } }
        try await index.upsert((0..<50).map { Self.chunk("f\($0 % 5)", $0 / 5, random()) }, collection: "c")
        let files: Set<String> = ["f0", "f1", "f2", "f3", "f4"]
        _ = try await index.search(random(), collection: "c", files: files, limit: 3)
        try await index.upsert((0..<10).map { Self.chunk("f1", $0, random()) }, collection: "c")
        try await index.remove(fileID: "f3", collection: "c")
        try await index.upsert([Self.chunk("f9", 0, random())], collection: "c")
        // A refused write leaves memory as the file is.
        await #expect(throws: VectorIndexError.self) { try await index.upsert([Self.chunk("f2", 0, [1])], collection: "c") }
        let queries = (0..<5).map { _ in random() }
        var inMemory: [[String]] = []
        for query in queries {
            inMemory.append(try await index.search(query, collection: "c", files: files.union(["f9"]), limit: 50).map(\.text))
        }
        try await index.close()

        let reopened = try await SQLiteVectorIndex.open(.init(directory: directory))
        for (query, expected) in zip(queries, inMemory) {
            let fromFile = try await reopened.search(query, collection: "c", files: files.union(["f9"]), limit: 50).map(\.text)
            #expect(fromFile == expected)
            #expect(fromFile.count == 41)
        }
        try await reopened.close()
    }

    static func scratchDirectory() -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("promptline-vectors-\(UUID().uuidString.lowercased())").path
    }
}
