import Foundation

extension TaskDetail {
    /// The task for people: one field a line, each label in a column; a long result (or
    /// error) cut to its first `limit` characters and 20 lines unless `full`.
    package func text(full: Bool = false, limit: Int = 1_000) -> String {
        var rows: [(String, String)] = []
        var statusText = status
        if let progress, !TaskSummary.finishedStatuses.contains(status) { statusText += " (\(progress)%)" }
        rows.append(("status", statusText))
        if let attempts { rows.append(("attempts", "\(attempts)")) }
        let settings = [
            maxTokens.map { "max_tokens \($0)" },
            temperature.map { "temperature \($0)" },
            priority.map { "priority \($0)" },
        ].compactMap { $0 }
        if let model { rows.append(("model", ([model] + settings).joined(separator: ", "))) }
        if let queuedAt { rows.append(("queued", queuedAt)) }
        if let startedAt {
            let waited = Self.seconds(from: queuedAt, to: startedAt).map { " (waited \($0) in the queue)" } ?? ""
            rows.append(("started", startedAt + waited))
        }
        if let finishedAt {
            let ran = Self.seconds(from: startedAt, to: finishedAt).map { " (ran \($0))" } ?? ""
            rows.append(("finished", finishedAt + ran))
        }
        if let usage {
            rows.append(("usage", "\(usage.promptTokens) prompt + \(usage.completionTokens) completion = \(usage.totalTokens) tokens"))
        }
        if let metadata, !metadata.isEmpty {
            rows.append(("metadata", metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))
        }
        if let error { rows.append(("error", full ? error : Self.cut(error, limit: limit))) }
        if let result { rows.append(("result", full ? result : Self.cut(result, limit: limit))) }

        let indent = String(repeating: " ", count: 13)
        var lines = ["task \(id)"]
        for (label, value) in rows {
            let valueLines = value.split(separator: "\n", omittingEmptySubsequences: false)
            lines.append("  " + label.padding(toLength: 11, withPad: " ", startingAt: 0) + valueLines[0])
            lines += valueLines.dropFirst().map { indent + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// The first `limit` characters and 20 lines of `text`, and how much was left out.
    static func cut(_ text: String, limit: Int) -> String {
        var kept = text.prefix(limit)
        if let twentiethNewline = kept.indices.filter({ kept[$0] == "\n" }).dropFirst(19).first {
            kept = kept[..<twentiethNewline]
        }
        guard kept.endIndex < text.endIndex else { return text }
        return "\(kept)… (\(text.count - kept.count) more characters; --full shows all)"
    }

    /// The time between two of the server's timestamps, `0.012 s`.
    static func seconds(from start: String?, to end: String?) -> String? {
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        guard let start, let end, let from = try? format.parse(start), let to = try? format.parse(end) else { return nil }
        return String(format: "%.3f s", to.timeIntervalSince(from))
    }
}
