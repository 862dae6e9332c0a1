import PromptlineCore

/// The text that shows how far a wait has come: a bar for a terminal, a sentence for a log.
///
/// The rate counts from the first figures seen once every task has been read, so tasks
/// finished before the wait began (an earlier run's) do not inflate it.
package struct ProgressBar: Sendable {
    package private(set) var progress: WaitProgress
    private var origin: (instant: ContinuousClock.Instant, finished: Int)?
    private var now: ContinuousClock.Instant?

    package init(total: Int) {
        progress = WaitProgress(total: total)
    }

    package mutating func update(_ progress: WaitProgress, at now: ContinuousClock.Instant) {
        self.progress = progress
        self.now = now
        if origin == nil, progress.everyTaskRead { origin = (now, progress.finished) }
    }

    /// Tasks finished per second; `nil` until a second has passed.
    package var rate: Double? {
        guard let origin, let now else { return nil }
        let seconds = (now - origin.instant).seconds
        guard seconds >= 1 else { return nil }
        return Double(progress.finished - origin.finished) / seconds
    }

    /// Seconds until every task is finished at the current rate; `nil` while unknown.
    package var secondsLeft: Double? {
        guard let rate, rate > 0 else { return nil }
        return Double(progress.total - progress.finished) / rate
    }

    private var percent: Int {
        progress.total == 0 ? 100 : progress.finished * 100 / progress.total
    }

    /// `[██████░░░░░░░░░░░░░░] 312/1000  31%  3 failed  41.2/s  ETA 17s`
    package func bar(width: Int = 20) -> String {
        let filled = progress.total == 0 ? width : progress.finished * width / progress.total
        var text = "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]"
        text += " \(progress.finished)/\(progress.total) \(String(percent).leftPadded(to: 3))%"
        if progress.failed > 0 { text += "  \(progress.failed) failed" }
        text += "  " + (rate.map { Self.decimal($0) + "/s" } ?? "–/s")
        if progress.finished < progress.total {
            text += "  ETA " + (secondsLeft.map(Self.clock) ?? "–")
        }
        return text
    }

    /// `312 of 1000 tasks finished (31%), 3 failed, 41.2 tasks/s, about 17s left`
    package var sentence: String {
        var parts = ["\(progress.finished) of \(progress.total) tasks finished (\(percent)%)"]
        if progress.failed > 0 { parts.append("\(progress.failed) failed") }
        if let rate { parts.append(Self.decimal(rate) + " tasks/s") }
        if progress.finished < progress.total, let secondsLeft { parts.append("about \(Self.clock(secondsLeft)) left") }
        return parts.joined(separator: ", ")
    }

    /// A number with one decimal.
    static func decimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// `7s`, `2m05s`, `1h02m`.
    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3_600 { return "\(whole / 60)m\(String(whole % 60).leftPadded(to: 2, with: "0"))s" }
        return "\(whole / 3_600)h\(String(whole % 3_600 / 60).leftPadded(to: 2, with: "0"))m"
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
