/// Waits, polling, until `condition` holds; throws after 30 s, which only a broken program reaches.
func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw FixtureError("gave up waiting until \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}
