import PromptlineKnowledge

/// Reproducible pseudo-random unit vectors (xorshift64, uniform in [-1, 1], normalised).
struct SeededVectors {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    }

    mutating func next(dimension: Int) -> [Float] {
        var vector = [Float](repeating: 0, count: dimension)
        for index in 0..<dimension {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            vector[index] = Float(state >> 40) / Float(1 << 23) - 1
        }
        return VectorMatrix.normalised(vector)
    }
}
