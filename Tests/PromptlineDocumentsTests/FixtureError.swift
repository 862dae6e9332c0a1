/// A test fixture that could not be set up, or a wait that gave up.
struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
