/// Waits until `condition` holds, looking again every millisecond of real time; throws
/// ``ConditionNotMet`` if it still does not hold after `bound`.
///
/// The bound only keeps a broken test from hanging: it is never what a test checks, and a
/// passing test waits only as long as the code under test takes to get there.
package func eventually(
    _ what: @autoclosure () -> String, within bound: Duration = .seconds(20),
    file: String = #fileID, line: Int = #line,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + bound
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw ConditionNotMet(what: what(), file: file, line: line) }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// What ``eventually(_:within:file:line:_:)`` throws: the condition, and where it was awaited.
package struct ConditionNotMet: Error, CustomStringConvertible {
    package var what: String
    package var file: String
    package var line: Int

    package var description: String { "\(file):\(line): still not so: \(what)" }
}
