/// Which files a search may return, as a bitset over the small file numbers a
/// ``VectorMatrix`` keeps per row, so a filtered search is still one pass.
package struct FileFilter: Sendable, Hashable {
    private var words: [UInt64]

    /// A filter allowing the given file numbers.
    package init<Numbers: Sequence>(_ numbers: Numbers) where Numbers.Element == UInt32 {
        words = []
        for number in numbers { insert(number) }
    }

    package var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    package mutating func insert(_ number: UInt32) {
        let word = Int(number >> 6)
        if word >= words.count { words += repeatElement(0, count: word + 1 - words.count) }
        words[word] |= 1 << UInt64(number & 63)
    }

    @inline(__always)
    package func contains(_ number: UInt32) -> Bool {
        let word = Int(number >> 6)
        return word < words.count && words[word] & (1 << UInt64(number & 63)) != 0
    }
}
