/// One task as `GET /api/tasks?task_ids=…` reports it.
package struct TaskSummary: Sendable, Hashable, Decodable {
    /// `queued`, `processing`, `completed`, `error`, `cancelled`, or `not_found` for an id
    /// the server does not know (unknown or expired).
    package var status: String
    package var result: String?
    package var error: String?
    /// `"0"` to `"100"`.
    package var progress: String?

    package init(status: String, result: String? = nil, error: String? = nil, progress: String? = nil) {
        self.status = status
        self.result = result
        self.error = error
        self.progress = progress
    }

    /// A finished task's status no longer changes (`not_found` included: waiting will not
    /// make an unknown id known).
    package var isFinished: Bool {
        Self.finishedStatuses.contains(status)
    }

    /// The statuses a wait ends on.
    package static let finishedStatuses: Set<String> = ["completed", "error", "cancelled", "not_found"]

    package var isCompleted: Bool {
        status == "completed"
    }
}
