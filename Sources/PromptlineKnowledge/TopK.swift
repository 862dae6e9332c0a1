/// The `k` best rows of a scan, kept in a min-heap of size `k` so that a scan of n rows
/// costs O(n log k) rather than the O(n log n) of sorting every score.
///
/// "Best" is the higher score; between equal scores, the lower row, so a result never
/// depends on how the rows were split across cores.
package struct TopK: Sendable {
    /// One scored row.
    package struct Entry: Sendable, Hashable {
        package var row: Int
        package var score: Float

        package init(row: Int, score: Float) {
            self.row = row
            self.score = score
        }

        /// Whether `self` ranks before `other`.
        @inline(__always)
        package func ranks(before other: Entry) -> Bool {
            score > other.score || (score == other.score && row < other.row)
        }
    }

    package let k: Int
    /// A heap whose root (`entries[0]`) is the worst entry kept.
    private var entries: [Entry] = []

    package init(k: Int) {
        self.k = max(0, k)
        entries.reserveCapacity(self.k)
    }

    /// The score a row must beat to be kept, once the heap is full (`-infinity` before).
    @inline(__always)
    package var threshold: Float {
        entries.count == k ? (k == 0 ? .infinity : entries[0].score) : -.infinity
    }

    /// Offers a row. A scan that visits rows in ascending order may skip rows scoring no
    /// more than ``threshold`` without calling this: they would rank after every entry.
    @inline(__always)
    package mutating func offer(row: Int, score: Float) {
        let entry = Entry(row: row, score: score)
        if entries.count < k {
            entries.append(entry)
            siftUp(entries.count - 1)
        } else if k > 0, entry.ranks(before: entries[0]) {
            entries[0] = entry
            siftDown(0)
        }
    }

    /// Takes in every entry of another part of the scan.
    package mutating func merge(_ other: TopK) {
        for entry in other.entries { offer(row: entry.row, score: entry.score) }
    }

    /// The entries, best first.
    package func sorted() -> [Entry] {
        entries.sorted { $0.ranks(before: $1) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            // The root holds the worst: a child that ranks after its parent moves up.
            guard entries[parent].ranks(before: entries[child]) else { return }
            entries.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            var worst = left
            let right = left + 1
            if right < entries.count, entries[left].ranks(before: entries[right]) { worst = right }
            guard entries[parent].ranks(before: entries[worst]) else { return }
            entries.swapAt(parent, worst)
            parent = worst
        }
    }
}
