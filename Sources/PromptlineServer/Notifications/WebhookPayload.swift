import Foundation
import PromptlineCore

/// The body of a webhook POST: a submission whose tasks have all finished.
struct WebhookPayload: Encodable {
    struct Entry: Encodable {
        var taskID: String
        /// `completed`, `error`, `cancelled`, or `not_found` once expired.
        var status: String

        enum CodingKeys: String, CodingKey {
            case status
            case taskID = "task_id"
        }
    }

    var event = "batch.finished"
    var batchID: String
    var createdAt: String
    /// When the last of the tasks finished.
    var finishedAt: String
    var total: Int
    var counts: StatusCounts
    /// In the order they were submitted.
    var tasks: [Entry]

    enum CodingKeys: String, CodingKey {
        case event, total, counts, tasks
        case batchID = "batch_id"
        case createdAt = "created_at"
        case finishedAt = "finished_at"
    }

    init(batchID: String, submission: SubmissionRecord, records: [String: TaskRecord]) {
        self.batchID = batchID
        createdAt = TaskDetail.timestamp(submission.createdAt)
        var counts = StatusCounts()
        var last: Date?
        tasks = submission.taskIDs.map { id in
            let record = records[id]
            counts.add(record?.status)
            if let finished = record?.finishedAt, last.map({ finished > $0 }) ?? true { last = finished }
            return Entry(taskID: id, status: record?.status.rawValue ?? "not_found")
        }
        self.counts = counts
        total = submission.taskIDs.count
        finishedAt = TaskDetail.timestamp(last ?? Date())
    }
}
