/// How far a wait has come.
package struct WaitProgress: Sendable, Hashable {
    package var total: Int
    /// Tasks finished, failed ones included.
    package var finished = 0
    /// Tasks that finished other than `completed`: error, cancelled or not_found.
    package var failed = 0
    /// Whether every task has been read once. Until then, the figures grow with each page
    /// read, by tasks that may have finished long before, so they tell no rate.
    package var everyTaskRead = false

    package init(total: Int, finished: Int = 0, failed: Int = 0, everyTaskRead: Bool = true) {
        self.total = total
        self.finished = finished
        self.failed = failed
        self.everyTaskRead = everyTaskRead
    }

    mutating func count(_ summary: TaskSummary) {
        finished += 1
        if !summary.isCompleted { failed += 1 }
    }
}
