/// Where one webhook POST goes: the URL's host, and the address that was resolved and
/// checked for it, the only one the POST may connect to.
package struct WebhookTarget: Sendable, Hashable {
    /// The URL as submitted.
    package let url: String
    /// The host as the URL names it (no brackets for IPv6): the `Host` header and, for
    /// https, the TLS server name and the name the certificate must be valid for.
    package let host: String
    /// The address the POST connects to.
    package let address: IPAddress

    /// Whether the URL names its address itself (an IP literal), so no lookup happens anyway.
    package var isLiteral: Bool { IPAddress(host) == address }
}
