/// Why an input file cannot be submitted: a line that is not a prompt, or no prompts at all.
package struct InputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The line at fault, counting from 1; `nil` when the fault is the whole file's.
    package var line: Int?
    package var message: String

    package init(line: Int?, _ message: String) {
        self.line = line
        self.message = message
    }

    package var description: String {
        line.map { "line \($0): \(message)" } ?? message
    }
}
