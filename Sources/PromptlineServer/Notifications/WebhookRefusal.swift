/// Why a `webhook_url` may not be used: at submission it is answered `422` with
/// ``message``; at delivery it fails the attempt.
package struct WebhookRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    package struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: String { case notHTTP, noHost, unresolvable, insideAddress }
        private let kind: Kind

        /// Not an `http` or `https` URL.
        package static let notHTTP = Code(kind: .notHTTP)
        /// No host to send to.
        package static let noHost = Code(kind: .noHost)
        /// The host name does not resolve.
        package static let unresolvable = Code(kind: .unresolvable)
        /// The host is, or resolves to, an address that is not allowed.
        package static let insideAddress = Code(kind: .insideAddress)

        package var description: String { kind.rawValue }
    }

    package let code: Code
    /// What is wrong and how to change it, for the client or the log.
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
