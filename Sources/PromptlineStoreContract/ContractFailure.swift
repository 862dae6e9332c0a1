/// A store broke the contract: what was expected, what the store did, and where it was checked.
package struct ContractFailure: Error, CustomStringConvertible {
    package var message: String
    package var file: String
    package var line: Int

    package init(_ message: String, file: String = #fileID, line: Int = #line) {
        self.message = message
        self.file = file
        self.line = line
    }

    package var description: String { "\(file):\(line): \(message)" }
}

/// Throws a ``ContractFailure`` with `message` unless `condition` holds.
func check(
    _ condition: Bool, _ message: @autoclosure () -> String,
    file: String = #fileID, line: Int = #line
) throws {
    guard condition else { throw ContractFailure(message(), file: file, line: line) }
}

/// Throws a ``ContractFailure`` naming both values unless they are equal.
func checkEqual<Value: Equatable>(
    _ actual: Value, _ expected: Value, _ what: @autoclosure () -> String,
    file: String = #fileID, line: Int = #line
) throws {
    try check(actual == expected, "\(what()): expected \(expected), got \(actual)", file: file, line: line)
}

/// Unwraps `value`, or throws a ``ContractFailure`` with `message`.
func unwrap<Value>(
    _ value: Value?, _ message: @autoclosure () -> String,
    file: String = #fileID, line: Int = #line
) throws -> Value {
    guard let value else { throw ContractFailure(message(), file: file, line: line) }
    return value
}
