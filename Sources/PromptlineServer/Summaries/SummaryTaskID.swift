/// The ids of a summary's tasks, which say where each stands in its flow:
///
/// - `summary:<sid>`: the summary itself, the step that combines the documents' summaries;
/// - `summary:<sid>:<i>`: the step of document `i`, which cuts it into chunks and combines
///   their summaries;
/// - `<step id>:c<level>.<j>`: a call below a step: level 0 the chunks of a document, above
///   it the collapse calls that combine several partial summaries into one.
///
/// Steps have no messages until they run (``SummaryStepHandler`` builds them); calls are
/// ordinary chat tasks.
struct SummaryTaskID: Hashable, Sendable {
    var summaryID: String
    /// The document, for a document's step or a call below it.
    var document: Int?
    /// For a call: its level and its place in the level.
    var level: Int?
    var index: Int?

    static let namespace = "summary"

    static func root(_ summaryID: String) -> String { "\(namespace):\(summaryID)" }

    static func document(_ summaryID: String, _ index: Int) -> String { "\(namespace):\(summaryID):\(index)" }

    static func call(below step: String, level: Int, index: Int) -> String { "\(step):c\(level).\(index)" }

    init?(_ id: String) {
        var parts = id.split(separator: ":", omittingEmptySubsequences: false)
        var call: Substring?
        if parts.count > 2, let last = parts.last, last.hasPrefix("c") {
            call = last.dropFirst()
            parts.removeLast()
        }
        guard parts.count == 2 || parts.count == 3, parts[0] == Self.namespace, !parts[1].isEmpty else { return nil }
        summaryID = String(parts[1])
        if parts.count == 3 {
            guard let document = Int(parts[2]) else { return nil }
            self.document = document
        }
        if let call {
            let numbers = call.split(separator: ".")
            guard numbers.count == 2, let level = Int(numbers[0]), let index = Int(numbers[1]) else { return nil }
            self.level = level
            self.index = index
        }
    }

    /// The level of a child of a step: a document's step is level 0 of the summary's.
    static func level(ofChild id: String) -> Int {
        SummaryTaskID(id)?.level ?? 0
    }
}
