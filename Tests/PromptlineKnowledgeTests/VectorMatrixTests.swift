import PromptlineKnowledge
import Testing

/// The exact scan against a brute-force reference (every score, fully sorted), on the
/// one-core path and on the split one.
@Suite struct VectorMatrixTests {
    /// Reproducible pseudo-random vectors (xorshift), not normalised.
    static func randomVectors(count: Int, dimension: Int, seed: UInt64) -> [[Float]] {
        var state = seed | 1
        func next() -> Float {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Float(state % 2_000_001) / 1_000_000 - 1
        }
        return (0..<count).map { _ in (0..<dimension).map { _ in next() } }
    }

    /// Cosine similarity computed plainly in Double, and every row sorted by it (ties: lower row).
    static func reference(_ vectors: [[Float]], _ query: [Float], allowed: (Int) -> Bool = { _ in true }) -> [(row: Int, score: Double)] {
        func norm(_ v: [Float]) -> Double { v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
        return vectors.indices.filter(allowed).map { row in
            let dot = zip(vectors[row], query).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            return (row, dot / (norm(vectors[row]) * norm(query)))
        }.sorted { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }
    }

    static func matrix(_ vectors: [[Float]], files: (Int) -> UInt32 = { _ in 0 }) -> VectorMatrix {
        var matrix = VectorMatrix(dimension: vectors[0].count)
        for (row, vector) in vectors.enumerated() { matrix.append(vector, file: files(row)) }
        return matrix
    }

    /// Same rows as the reference and the same scores, within float rounding.
    static func expectMatches(_ found: [TopK.Entry], _ expected: ArraySlice<(row: Int, score: Double)>) {
        #expect(found.map(\.row) == expected.map(\.row))
        for (entry, reference) in zip(found, expected) {
            #expect(abs(Double(entry.score) - reference.score) < 1e-4, "row \(entry.row): \(entry.score) vs \(reference.score)")
        }
    }

    @Test(arguments: [1, 7, 8, 16, 37, 384])
    func topTenEqualsBruteForce(dimension: Int) {
        let vectors = Self.randomVectors(count: 3_000, dimension: dimension, seed: UInt64(dimension))
        let matrix = Self.matrix(vectors)
        for query in Self.randomVectors(count: 5, dimension: dimension, seed: 1_000 + UInt64(dimension)) {
            let found = matrix.search(query, limit: 10)
            Self.expectMatches(found, Self.reference(vectors, query).prefix(10))
        }
    }

    /// Forced onto the split path with few rows: 3 and 7 parts of uneven sizes, merged.
    @Test(arguments: [2, 3, 7])
    func splitAcrossPartsEqualsBruteForce(parts: Int) {
        let vectors = Self.randomVectors(count: 2_001, dimension: 24, seed: 5)
        let matrix = Self.matrix(vectors)
        let query = Self.randomVectors(count: 1, dimension: 24, seed: 6)[0]
        let found = matrix.search(query, limit: 25, parallelThreshold: 100, parts: parts)
        Self.expectMatches(found, Self.reference(vectors, query).prefix(25))
    }

    @Test func filteredSearchSeesOnlyAllowedFiles() {
        let vectors = Self.randomVectors(count: 2_000, dimension: 16, seed: 11)
        let matrix = Self.matrix(vectors) { UInt32($0 % 100) }
        let allowed: Set<UInt32> = [3, 64, 99]
        let query = Self.randomVectors(count: 1, dimension: 16, seed: 12)[0]
        for threshold in [VectorMatrix.parallelThreshold, 10] {
            let found = matrix.search(query, filter: FileFilter(allowed), limit: 10, parallelThreshold: threshold, parts: 2)
            Self.expectMatches(found, Self.reference(vectors, query) { allowed.contains(UInt32($0 % 100)) }.prefix(10))
        }
    }

    /// Equal scores rank by row, whichever part of a split scan found them.
    @Test func tiesRankByRow() {
        let vectors = (0..<40).map { row in row % 4 == 0 ? [1, 0, 0] : [Float(0), 1, 0] }
        let matrix = Self.matrix(vectors)
        #expect(matrix.search([2, 0, 0], limit: 5).map(\.row) == [0, 4, 8, 12, 16])
        #expect(matrix.search([2, 0, 0], limit: 5, parallelThreshold: 1, parts: 3).map(\.row) == [0, 4, 8, 12, 16])
        #expect(matrix.search([2, 0, 0], limit: 5).allSatisfy { $0.score == 1 })
    }

    @Test func limitAboveRowsAnswersEveryRowSorted() {
        let vectors = Self.randomVectors(count: 7, dimension: 5, seed: 3)
        let query = Self.randomVectors(count: 1, dimension: 5, seed: 4)[0]
        let found = Self.matrix(vectors).search(query, limit: 50)
        Self.expectMatches(found, Self.reference(vectors, query).prefix(50))
        #expect(found.count == 7)
    }

    @Test func emptyMatrixOrZeroLimitFindsNothing() {
        #expect(VectorMatrix(dimension: 4).search([1, 0, 0, 0], limit: 10).isEmpty)
        #expect(Self.matrix([[1, 0, 0, 0]]).search([1, 0, 0, 0], limit: 0).isEmpty)
        #expect(Self.matrix([[1, 0, 0, 0]]).search([1, 0, 0, 0], filter: FileFilter([7]), limit: 3).isEmpty)
    }

    @Test func rowsAreStoredNormalised() {
        let matrix = Self.matrix([[3, 4], [0, 0]])
        #expect(Array(matrix.row(0)) == [0.6, 0.8])
        #expect(Array(matrix.row(1)) == [0, 0])
    }

    /// Removing a row moves the last into its place; searches see the rest unchanged.
    @Test func swapRemoveKeepsTheOtherRows() {
        var matrix = Self.matrix([[1, 0], [0, 1], [-1, 0]], files: { UInt32($0) })
        #expect(matrix.swapRemove(row: 0) == 2)
        #expect(Array(matrix.row(0)) == [-1, 0])
        #expect(matrix.files == [2, 1])
        #expect(matrix.swapRemove(row: 1) == nil)
        #expect(matrix.count == 1)
        #expect(matrix.search([-1, 0], limit: 3).map(\.row) == [0])
    }

    @Test func fileFilterMembership() {
        let filter = FileFilter([0, 63, 64, 1_000])
        #expect([0, 63, 64, 1_000].allSatisfy { filter.contains($0) })
        #expect(![1, 62, 65, 999, 1_001, 100_000].contains { filter.contains($0) })
        #expect(FileFilter([]).isEmpty)
    }
}
