/// The vectors of one collection as one contiguous row-major `[Float]` (row r is
/// `values[r * dimension ..< (r + 1) * dimension]`), each L2-normalised when written, so
/// that cosine similarity is a dot product; and beside each row the small number of its
/// file, for filtering in the same pass.
///
/// A value type: a copy taken to search (O(1), copy on write) is not disturbed by later
/// writes to the original.
package struct VectorMatrix: Sendable {
    package let dimension: Int
    /// Row-major, `count * dimension` values, every row of length 1 (or all zeros).
    package private(set) var values: [Float] = []
    /// The file number of each row.
    package private(set) var files: [UInt32] = []

    package init(dimension: Int) {
        precondition(dimension > 0, "a vector has at least one dimension")
        self.dimension = dimension
    }

    /// The number of rows.
    package var count: Int { files.count }

    /// Room for `rows` rows without reallocating.
    package mutating func reserveCapacity(_ rows: Int) {
        values.reserveCapacity(rows * dimension)
        files.reserveCapacity(rows)
    }

    /// Adds a row (normalised here) and answers its number.
    @discardableResult
    package mutating func append(_ vector: [Float], file: UInt32) -> Int {
        precondition(vector.count == dimension, "a vector of \(vector.count) dimensions in a matrix of \(dimension)")
        let norm = Self.norm(vector)
        if norm > 0 {
            values.append(contentsOf: vector.lazy.map { $0 / norm })
        } else {
            values.append(contentsOf: vector)
        }
        files.append(file)
        return files.count - 1
    }

    /// Overwrites row `row` with `vector` (normalised here) of file `file`.
    package mutating func replace(row: Int, with vector: [Float], file: UInt32) {
        precondition(vector.count == dimension, "a vector of \(vector.count) dimensions in a matrix of \(dimension)")
        let norm = Self.norm(vector)
        let scale: Float = norm > 0 ? 1 / norm : 1
        let start = row * dimension
        values.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<dimension { buffer[start + index] = vector[index] * scale }
        }
        files[row] = file
    }

    /// Removes row `row` by moving the last row into its place (O(dimension), not O(count)).
    /// Answers the number the last row had, now `row`, or `nil` when `row` was the last.
    @discardableResult
    package mutating func swapRemove(row: Int) -> Int? {
        let last = count - 1
        precondition(row >= 0 && row <= last, "row \(row) of \(count)")
        if row != last {
            let (from, to) = (last * dimension, row * dimension)
            values.withUnsafeMutableBufferPointer { buffer in
                for index in 0..<dimension { buffer[to + index] = buffer[from + index] }
            }
            files[row] = files[last]
        }
        values.removeLast(dimension)
        files.removeLast()
        return row == last ? nil : last
    }

    /// The row's values, as stored (normalised).
    package func row(_ row: Int) -> ArraySlice<Float> {
        values[row * dimension ..< (row + 1) * dimension]
    }

    /// `vector` scaled to length 1 (unchanged when it is all zeros).
    package static func normalised(_ vector: [Float]) -> [Float] {
        let norm = norm(vector)
        return norm > 0 ? vector.map { $0 / norm } : vector
    }

    static func norm(_ vector: [Float]) -> Float {
        vector.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            return dot(base, base, count: buffer.count).squareRoot()
        }
    }
}
