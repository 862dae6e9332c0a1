import Foundation

/// Where a base URL points: scheme, host, port (the scheme's default when absent) and path.
struct UpstreamOrigin: Sendable {
    let tls: Bool
    let host: String
    let port: Int
    /// Without a trailing slash: `/v1`, or empty.
    let path: String
    /// `host:port`, for messages.
    let endpoint: String
    /// The `Host` header: the port only when it is not the scheme's own, as browsers and
    /// AsyncHTTPClient send it (some front ends route on the exact header).
    let hostHeader: String

    init?(_ url: String) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
              var host = parsed.host, !host.isEmpty
        else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // It goes into the Host header as it is.
        guard host.utf8.allSatisfy(Self.isVisibleASCII) else { return nil }
        tls = scheme == "https"
        self.host = host
        port = parsed.port ?? (tls ? 443 : 80)
        var path = parsed.path
        while path.hasSuffix("/") { path.removeLast() }
        self.path = path
        let bracketedHost = host.contains(":") ? "[\(host)]" : host
        endpoint = "\(bracketedHost):\(port)"
        hostHeader = port == (tls ? 443 : 80) ? bracketedHost : endpoint
    }

    /// Whether `byte` may stand in a header value as it is: a printable ASCII character,
    /// not a space. The pool's connections do not check their requests' headers again.
    static func isVisibleASCII(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte)
    }
}
