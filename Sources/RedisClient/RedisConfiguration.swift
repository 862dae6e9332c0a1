import Foundation
import Timing

/// Where Redis is and how to talk to it.
package struct RedisConfiguration: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int
    package var database: Int
    package var username: String?
    /// Sent with `HELLO … AUTH` (or `AUTH`); never logged or shown.
    package var password: String?
    /// TLS (a `rediss://` URL).
    package var tls: Bool
    /// A PEM file of the certificate authorities to trust with TLS instead of the system's
    /// (the URL's `tls_ca_file` query item), for a Redis with a private CA.
    package var tlsCAFile: String?
    /// How long a connection may take to open, handshake included.
    package var connectTimeout: Duration
    /// How long a command may wait for its reply before its connection is closed.
    package var commandTimeout: Duration
    /// How many connections the pool keeps; commands are pipelined on each.
    package var connectionCount: Int
    /// The first wait before reconnecting after a failure; it doubles up to `reconnectMaxDelay`.
    package var reconnectBaseDelay: Duration
    package var reconnectMaxDelay: Duration
    /// The name each connection gives itself (`CLIENT SETNAME`), seen in `CLIENT LIST`.
    package var clientName: String?

    package init(
        host: String = "127.0.0.1", port: Int = 6379, database: Int = 0,
        username: String? = nil, password: String? = nil, tls: Bool = false, tlsCAFile: String? = nil,
        connectTimeout: Duration = .seconds(5), commandTimeout: Duration = .seconds(30),
        connectionCount: Int = 4,
        reconnectBaseDelay: Duration = .milliseconds(100), reconnectMaxDelay: Duration = .seconds(2),
        clientName: String? = "promptline"
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.tls = tls
        self.tlsCAFile = tlsCAFile
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.connectionCount = connectionCount
        self.reconnectBaseDelay = reconnectBaseDelay
        self.reconnectMaxDelay = reconnectMaxDelay
        self.clientName = clientName
    }

    /// Reads `redis://[[username]:password@]host[:port][/database]`, or `rediss://…` for TLS
    /// (with `?tls_ca_file=/path/ca.pem` to trust a private certificate authority).
    package init(url: String) throws(RedisURLError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw RedisURLError(reason: "not a URL")
        }
        guard scheme == "redis" || scheme == "rediss" else {
            throw RedisURLError(reason: "the scheme must be redis:// or rediss://, not \(scheme)://")
        }
        guard let host = components.host, !host.isEmpty else { throw RedisURLError(reason: "no host") }
        self.init(host: host, port: components.port ?? 6379, tls: scheme == "rediss")
        if let port = components.port, !(1...65_535).contains(port) { throw RedisURLError(reason: "port out of range") }
        let user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }
        username = user?.isEmpty == false ? user : nil
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else {
                throw RedisURLError(reason: "the path must be a database number, not \"\(path)\"")
            }
            self.database = database
        }
        for item in components.queryItems ?? [] {
            switch item.name {
            case "tls_ca_file":
                guard tls else { throw RedisURLError(reason: "tls_ca_file needs a rediss:// URL") }
                tlsCAFile = item.value
            default:
                throw RedisURLError(reason: "unknown query item \(item.name) (only tls_ca_file is understood)")
            }
        }
    }

    /// The address, with the password masked.
    package var description: String {
        let credentials = password == nil ? (username.map { "\($0)@" } ?? "") : "\(username ?? ""):***@"
        return "\(tls ? "rediss" : "redis")://\(credentials)\(host):\(port)/\(database)"
    }
}

/// A Redis URL that cannot be used; the reason never repeats a password.
package struct RedisURLError: Error, Hashable, CustomStringConvertible {
    package var reason: String
    package var description: String { "bad Redis URL: \(reason)" }
}

extension RedisConfiguration {
    /// The waits before reconnecting: `reconnectBaseDelay`, doubled after each failure in a
    /// row, `reconnectMaxDelay` at most.
    package var reconnectBackoff: Backoff { Backoff(base: reconnectBaseDelay, maximum: reconnectMaxDelay) }
}
