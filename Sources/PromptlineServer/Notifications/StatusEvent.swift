import PromptlineCore

/// The data of a `status` event. `result` and `error` come once the task has finished;
/// a `not_found` task has its id and status only.
struct StatusEvent: Encodable {
    var taskID: String
    var record: TaskRecord?

    enum CodingKeys: String, CodingKey {
        case status, progress, result, error
        case taskID = "task_id"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(taskID, forKey: .taskID)
        guard let record else {
            try c.encode("not_found", forKey: .status)
            return
        }
        try c.encode(record.status.rawValue, forKey: .status)
        try c.encode(String(record.progress), forKey: .progress)
        if record.status.isFinished {
            try c.encode(record.result, forKey: .result)
            try c.encode(record.error, forKey: .error)
        }
    }
}
