import PromptlineCore

/// One line of a results file: what became of one input line.
package struct ResultLine: Sendable, Hashable {
    /// The input line's number, counting from 1.
    package var line: Int
    package var customID: String?
    package var taskID: String
    /// `completed`, `error`, `cancelled` or `not_found`.
    package var status: String
    package var result: String?
    package var error: String?

    package init(line: Int, customID: String? = nil, taskID: String, status: String, result: String? = nil, error: String? = nil) {
        self.line = line
        self.customID = customID
        self.taskID = taskID
        self.status = status
        self.result = result
        self.error = error
    }

    /// One result line per input line, in input order.
    package static func lines(for input: [InputLine], taskIDs: [String], summaries: [String: TaskSummary]) -> [ResultLine] {
        zip(input, taskIDs).map { line, id in
            let summary = summaries[id] ?? TaskSummary(status: "not_found")
            return ResultLine(
                line: line.number, customID: line.customID, taskID: id,
                status: summary.status, result: summary.result, error: summary.error)
        }
    }

    /// The line as compact JSON, without a newline, keys in a fixed order. `custom_id` is
    /// there when the input line had one; `result` and `error` are always there, `null` when empty.
    package var json: String {
        func text(_ value: String?) -> String {
            value.map { JSONValue.string($0).canonicalText } ?? "null"
        }
        var fields = [#""line":\#(line)"#]
        if let customID { fields.append(#""custom_id":"# + text(customID)) }
        fields.append(#""task_id":"# + text(taskID))
        fields.append(#""status":"# + text(status))
        fields.append(#""result":"# + text(result))
        fields.append(#""error":"# + text(error))
        return "{" + fields.joined(separator: ",") + "}"
    }
}
