/// Something went wrong talking to Redis.
///
/// ``code`` says what, with no dynamic values (usable as a metric label); ``message`` says
/// it for people. Neither ever holds a password.
package struct RedisClientError: Error, Sendable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String {
            case connectionFailed = "connection failed"
            case connectionClosed = "connection closed"
            case timeout = "command timed out"
            case server = "server error"
            case protocolError = "protocol error"
            case unexpectedResponse = "unexpected response"
            case shutdown = "client shut down"
        }

        fileprivate let base: Base
        private init(_ base: Base) { self.base = base }

        /// Redis could not be reached (refused, unresolvable, handshake failed).
        package static let connectionFailed = Code(.connectionFailed)
        /// The connection closed before the reply came.
        package static let connectionClosed = Code(.connectionClosed)
        /// No reply within the command timeout; the connection was closed.
        package static let timeout = Code(.timeout)
        /// Redis answered with an error reply (`-ERR …`).
        package static let server = Code(.server)
        /// The bytes Redis sent were not RESP.
        package static let protocolError = Code(.protocolError)
        /// The reply was RESP but not of the type the command answers.
        package static let unexpectedResponse = Code(.unexpectedResponse)
        /// The client was shut down.
        package static let shutdown = Code(.shutdown)

        package var description: String { base.rawValue }
    }

    package var code: Code
    package var message: String
    package var underlying: (any Error)?

    package init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// True when the error says Redis is out of reach rather than that a command was wrong:
    /// the caller may try again once Redis is back.
    package var isUnavailable: Bool {
        switch code.base {
        case .connectionFailed, .connectionClosed, .timeout, .shutdown: true
        case .server: message.hasPrefix("LOADING") || message.hasPrefix("BUSY") || message.hasPrefix("MASTERDOWN")
            || message.hasPrefix("TRYAGAIN")
        case .protocolError, .unexpectedResponse: false
        }
    }

    /// For a server error, its first word (`NOSCRIPT`, `WRONGTYPE`, `ERR`, …).
    package var serverErrorPrefix: Substring? {
        code == .server ? message.split(separator: " ", maxSplits: 1).first : nil
    }

    package var description: String { "Redis \(code): \(message)" }
}
