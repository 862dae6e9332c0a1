/// How far a wait has come.
public struct WaitProgress: Sendable, Hashable {
    public var total: Int
    /// Tasks finished, failed ones included.
    public var finished = 0
    /// Tasks that finished other than `completed`: error, cancelled or not_found.
    public var failed = 0

    public init(total: Int, finished: Int = 0, failed: Int = 0) {
        self.total = total
        self.finished = finished
        self.failed = failed
    }

    mutating func count(_ summary: TaskSummary) {
        finished += 1
        if !summary.isCompleted { failed += 1 }
    }
}
