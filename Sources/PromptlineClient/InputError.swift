/// Why an input file cannot be submitted: a line that is not a prompt, or no prompts at all.
public struct InputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The line at fault, counting from 1; `nil` when the fault is the whole file's.
    public var line: Int?
    public var message: String

    public init(line: Int?, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String {
        line.map { "line \($0): \(message)" } ?? message
    }
}
