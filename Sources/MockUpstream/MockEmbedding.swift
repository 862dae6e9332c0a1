#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The mock's embeddings: deterministic vectors in which texts that share words are close.
///
/// Each lower-cased word (a run of letters and digits) is hashed (FNV-1a) to
/// ``slotsPerWord`` dimensions, each with a sign; the vector is the sum over the words,
/// scaled to length 1. Two texts' cosine similarity therefore grows with the words they
/// share, and a text always gets the same vector, in every process.
enum MockEmbedding {
    /// The dimension when a request does not ask for one.
    static let defaultDimensions = 384
    /// The largest `dimensions` a request may ask for.
    static let maximumDimensions = 4_096
    /// How many dimensions each word adds to.
    static let slotsPerWord = 4

    /// The unit vector of `text` with `dimensions` components (`dimensions` ≥ 1).
    static func vector(for text: String, dimensions: Int) -> [Float] {
        precondition(dimensions >= 1, "an embedding has at least one dimension")
        var vector = [Float](repeating: 0, count: dimensions)
        var words = text.lowercased().split { !$0.isLetter && !$0.isNumber }.map { Array($0.utf8) }
        // A text of punctuation alone is one word as it is.
        if words.isEmpty { words = [Array(text.utf8)] }
        for word in words {
            var hash = fnv1a(word)
            for _ in 0..<slotsPerWord {
                hash = mix(hash)
                vector[Int(hash % UInt64(dimensions))] += hash >> 63 == 0 ? 1 : -1
            }
        }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // The signs of a word's slots may cancel; the vector is still of length 1.
        guard norm > 0 else {
            vector[0] = 1
            return vector
        }
        for index in vector.indices { vector[index] /= norm }
        return vector
    }

    /// The vector as OpenAI's `base64` encoding has it: float32 little-endian, base64.
    static func base64(_ vector: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }

    private static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// SplitMix64's finaliser: each slot of a word from the one before.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
