import PromptlineCore

/// How many tasks ended in each way: the `done` event of a stream, the counts of a webhook.
struct StatusCounts: Encodable, Equatable {
    var completed = 0
    var error = 0
    var cancelled = 0
    var notFound = 0

    /// Counts a finished task; `nil` is one unknown or expired.
    mutating func add(_ status: TaskStatus?) {
        switch status {
        case .completed?: completed += 1
        case .error?: error += 1
        case .cancelled?: cancelled += 1
        case nil: notFound += 1
        case .queued?, .processing?: break
        }
    }

    enum CodingKeys: String, CodingKey {
        case completed, error, cancelled
        case notFound = "not_found"
    }
}
