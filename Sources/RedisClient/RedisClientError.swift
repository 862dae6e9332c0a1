/// Something went wrong talking to Redis.
///
/// ``code`` says what, with no dynamic values (usable as a metric label); ``message`` says
/// it for people. Neither ever holds a password.
public struct RedisClientError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
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
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection closed before the reply came.
        public static let connectionClosed = Code(.connectionClosed)
        /// No reply within the command timeout; the connection was closed.
        public static let timeout = Code(.timeout)
        /// Redis answered with an error reply (`-ERR …`).
        public static let server = Code(.server)
        /// The bytes Redis sent were not RESP.
        public static let protocolError = Code(.protocolError)
        /// The reply was RESP but not of the type the command answers.
        public static let unexpectedResponse = Code(.unexpectedResponse)
        /// The client was shut down.
        public static let shutdown = Code(.shutdown)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// True when the error says Redis is out of reach rather than that a command was wrong:
    /// the caller may try again once Redis is back.
    public var isUnavailable: Bool {
        switch code.base {
        case .connectionFailed, .connectionClosed, .timeout, .shutdown: true
        case .server: message.hasPrefix("LOADING") || message.hasPrefix("BUSY") || message.hasPrefix("MASTERDOWN")
            || message.hasPrefix("TRYAGAIN")
        case .protocolError, .unexpectedResponse: false
        }
    }

    /// For a server error, its first word (`NOSCRIPT`, `WRONGTYPE`, `ERR`, …).
    public var serverErrorPrefix: Substring? {
        code == .server ? message.split(separator: " ", maxSplits: 1).first : nil
    }

    public var description: String { "Redis \(code): \(message)" }
}
