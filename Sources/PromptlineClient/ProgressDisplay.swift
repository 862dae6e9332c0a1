import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Progress on standard error: on a terminal, one line redrawn in place; otherwise (a log,
/// a pipe) a plain line every few seconds; nothing at all when quiet. Notes (a retry, a
/// summary) always get a line of their own, except when quiet.
///
/// Standard output is left to results, so that `promptline submit f --wait > out.jsonl`
/// shows progress and writes clean JSONL.
package struct ProgressDisplay: Sendable {
    package enum Mode: Sendable {
        case terminal
        case log
        case quiet
    }

    package let mode: Mode
    /// The least time between two redraws on a terminal, and between two lines in a log.
    package var redrawInterval: Duration = .milliseconds(100)
    package var logInterval: Duration = .seconds(5)
    private var lastShown: ContinuousClock.Instant?
    /// A redrawn line is on the terminal, not yet ended by a newline.
    private var lineOpen = false

    package init(mode: Mode) {
        self.mode = mode
    }

    /// `.terminal` when standard error is a terminal (and `TERM` is not `dumb`), else `.log`.
    package static func standardError(quiet: Bool) -> ProgressDisplay {
        if quiet { return ProgressDisplay(mode: .quiet) }
        let dumb = ProcessInfo.processInfo.environment["TERM"] == "dumb"
        return ProgressDisplay(mode: isatty(STDERR_FILENO) != 0 && !dumb ? .terminal : .log)
    }

    /// Shows `line` on a terminal or `sentence` in a log, unless the last showing was too
    /// recent; `force` shows it anyway (the last figures).
    package mutating func show(line: @autoclosure () -> String, sentence: @autoclosure () -> String, force: Bool = false) {
        let now = ContinuousClock.now
        switch mode {
        case .quiet:
            return
        case .terminal:
            guard force || lastShown.map({ now - $0 >= redrawInterval }) ?? true else { return }
            write("\r" + line() + "\u{1B}[K")
            lineOpen = true
        case .log:
            guard force || lastShown.map({ now - $0 >= logInterval }) ?? true else { return }
            write(sentence() + "\n")
        }
        lastShown = now
    }

    /// A line of its own, in place of the redrawn line (which the next ``show`` draws again,
    /// below it).
    package mutating func note(_ text: String) {
        guard mode != .quiet else { return }
        write((lineOpen ? "\r\u{1B}[K" : "") + text + "\n")
        lineOpen = false
    }

    /// Keeps the redrawn line as it stands, so that what is written next starts below it.
    package mutating func end() {
        if lineOpen { write("\n") }
        lineOpen = false
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
