import PromptlineKnowledge
import Testing

@Suite struct TopKTests {
    /// Offered in any order, the heap keeps the same best k as a full sort.
    @Test(arguments: [0, 1, 3, 10, 200])
    func keepsTheBestK(k: Int) {
        var generator = SystemRandomNumberGenerator()
        let entries = (0..<150).map { TopK.Entry(row: $0, score: Float(Int.random(in: 0..<40, using: &generator))) }
        var top = TopK(k: k)
        for entry in entries.shuffled() { top.offer(row: entry.row, score: entry.score) }
        let expected = entries.sorted { $0.ranks(before: $1) }.prefix(k)
        #expect(top.sorted() == Array(expected))
    }

    @Test func mergeEqualsOneHeap() {
        var left = TopK(k: 3)
        var right = TopK(k: 3)
        for (row, score) in [(0, 0.5), (1, 0.9), (2, 0.1)] { left.offer(row: row, score: Float(score)) }
        for (row, score) in [(3, 0.9), (4, 0.7), (5, 0.2)] { right.offer(row: row, score: Float(score)) }
        left.merge(right)
        #expect(left.sorted().map(\.row) == [1, 3, 4])
    }
}
