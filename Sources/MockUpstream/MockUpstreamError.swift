/// An error starting or running a ``MockUpstreamServer``.
package struct MockUpstreamError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case invalidConfiguration
        case bindFailed
    }

    private let code: Code
    /// What went wrong, for a person to read.
    package let message: String
    /// The error that caused this one, if any.
    package let underlying: (any Error)?

    private init(_ code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The configuration has values the server cannot use; ``message`` lists them, one per line.
    package static func invalidConfiguration(_ problems: [String]) -> Self {
        .init(.invalidConfiguration, message: problems.joined(separator: "\n"))
    }

    /// The listening socket could not be bound.
    package static func bindFailed(host: String, port: Int, underlying: any Error) -> Self {
        .init(.bindFailed, message: "cannot listen on \(host):\(port): \(underlying)", underlying: underlying)
    }

    /// A short description without dynamic values (for logs and metric labels).
    package var kind: String {
        switch code {
        case .invalidConfiguration: "invalid configuration"
        case .bindFailed: "bind failed"
        }
    }

    package var description: String {
        switch code {
        case .invalidConfiguration: "invalid mock-upstream configuration: \(message)"
        case .bindFailed: message
        }
    }
}
