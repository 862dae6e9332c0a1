/// One collection of a ``VectorIndex`` in memory: a ``VectorMatrix`` of its vectors, and
/// which chunk (file, index) each row is. The embedded index keeps one per collection and
/// writes to it as it writes to its file; texts stay on disk.
///
/// A value type, like the matrix: a copy taken to search is not disturbed by later writes.
package struct VectorCollection: Sendable {
    /// A chunk found by ``search(_:files:limit:)``.
    package struct Hit: Sendable, Hashable {
        package var fileID: String
        package var index: Int
        package var score: Float
    }

    /// A chunk's place: its file's number and its index in the file.
    struct Key: Hashable, Sendable {
        var file: UInt32
        var index: Int
    }

    package private(set) var matrix: VectorMatrix
    /// The chunk of each row.
    private var keys: [Key] = []
    private var rowOf: [Key: Int] = [:]
    /// File numbers, given on first sight and never reused (a removed file keeps its number).
    private var fileNumbers: [String: UInt32] = [:]
    private var fileNames: [String] = []
    /// The chunk indices each file has; a file with none is absent.
    private var indicesOfFile: [UInt32: Set<Int>] = [:]

    package init(dimension: Int) {
        matrix = VectorMatrix(dimension: dimension)
    }

    package var dimension: Int { matrix.dimension }
    /// The number of chunks.
    package var count: Int { keys.count }

    /// How many chunks of a file the collection holds.
    package func count(fileID: String) -> Int {
        fileNumbers[fileID].flatMap { indicesOfFile[$0]?.count } ?? 0
    }

    /// Room for `chunks` chunks without reallocating.
    package mutating func reserveCapacity(_ chunks: Int) {
        matrix.reserveCapacity(chunks)
        keys.reserveCapacity(chunks)
        rowOf.reserveCapacity(chunks)
    }

    /// Throws `dimensionMismatch` unless every chunk has the collection's dimension.
    package func validate(_ chunks: [IndexedChunk]) throws {
        if let wrong = chunks.first(where: { $0.vector.count != dimension }) {
            throw VectorIndexError(
                .dimensionMismatch,
                "chunk \(wrong.index) of file \(wrong.fileID) has \(wrong.vector.count) dimensions; the collection has \(dimension)")
        }
    }

    /// Stores chunks, replacing any with the same file and index; all or none (see ``validate(_:)``).
    package mutating func upsert(_ chunks: [IndexedChunk]) throws {
        try validate(chunks)
        for chunk in chunks { upsert(fileID: chunk.fileID, index: chunk.index, vector: chunk.vector) }
    }

    /// Stores one chunk's vector, whose length must be the collection's dimension.
    package mutating func upsert(fileID: String, index: Int, vector: [Float]) {
        let file = number(of: fileID)
        let key = Key(file: file, index: index)
        if let row = rowOf[key] {
            matrix.replace(row: row, with: vector, file: file)
        } else {
            rowOf[key] = matrix.append(vector, file: file)
            keys.append(key)
            indicesOfFile[file, default: []].insert(index)
        }
    }

    /// Removes every chunk of a file.
    package mutating func remove(fileID: String) {
        guard let file = fileNumbers[fileID], let indices = indicesOfFile.removeValue(forKey: file) else { return }
        for index in indices {
            let key = Key(file: file, index: index)
            guard let row = rowOf.removeValue(forKey: key) else { continue }
            if let moved = matrix.swapRemove(row: row) {
                keys[row] = keys[moved]
                rowOf[keys[row]] = row
            }
            keys.removeLast()
        }
    }

    /// At most `limit` chunks of the named files, closest to `query` first (equal scores in
    /// row order). `query` must have the collection's dimension.
    package func search(
        _ query: [Float], files: Set<String>, limit: Int, parallelThreshold: Int = VectorMatrix.parallelThreshold
    ) -> [Hit] {
        let allowed = files.compactMap { fileNumbers[$0] }.filter { indicesOfFile[$0] != nil }
        guard !allowed.isEmpty, limit > 0 else { return [] }
        // Naming every file is the common case: no membership test per row then.
        let filter = allowed.count == indicesOfFile.count ? nil : FileFilter(allowed)
        return matrix.search(query, filter: filter, limit: limit, parallelThreshold: parallelThreshold).map { entry in
            let key = keys[entry.row]
            return Hit(fileID: fileNames[Int(key.file)], index: key.index, score: entry.score)
        }
    }

    private mutating func number(of fileID: String) -> UInt32 {
        if let number = fileNumbers[fileID] { return number }
        let number = UInt32(fileNames.count)
        fileNumbers[fileID] = number
        fileNames.append(fileID)
        return number
    }
}
