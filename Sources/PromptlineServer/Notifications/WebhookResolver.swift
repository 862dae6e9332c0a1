import Foundation

/// Turns a `webhook_url` into the one address its POST may connect to, or refuses it.
///
/// The host is resolved (an IP literal is taken as it is), and every address it resolves to
/// must pass ``WebhookAddressPolicy``: one address inside (loopback, private, link-local,
/// metadata, …) refuses the URL, naming it and its class. A host named in
/// `--webhook-allow-hosts` skips the check but is still resolved once here. The submission
/// is checked with it (`422`), and each delivery again, which then connects to the first
/// address found here and to no other (``WebhookDispatcher``), so a name that resolves to
/// something else a moment later (DNS rebinding) changes nothing.
package struct WebhookResolver: Sendable {
    package let policy: WebhookAddressPolicy
    /// Looks a host name up; ``HostResolver`` by default, a table in tests.
    let lookUp: @Sendable (String) async throws -> [IPAddress]

    package init(
        policy: WebhookAddressPolicy,
        lookUp: @escaping @Sendable (String) async throws -> [IPAddress] = HostResolver.addresses(of:)
    ) {
        self.policy = policy
        self.lookUp = lookUp
    }

    /// The checked target of `url`; throws a ``WebhookRefusal`` whose message starts with
    /// `webhook_url:` and says what to change.
    package func target(for url: String) async throws(WebhookRefusal) -> WebhookTarget {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
            throw WebhookRefusal(.notHTTP, "webhook_url must be an http or https URL")
        }
        guard var host = parsed.host, !host.isEmpty else {
            throw WebhookRefusal(.noHost, "webhook_url must name a host")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let allow = "allow it with \(Setting.webhookAllowHosts.flag)"
        if let literal = IPAddress(host) {
            if let refusal = policy.refusal(of: literal) {
                throw WebhookRefusal(.insideAddress, "webhook_url: \(literal) is \(refusal); \(allow)")
            }
            return WebhookTarget(url: url, host: host, address: literal)
        }
        let addresses: [IPAddress]
        do {
            addresses = try await lookUp(host)
        } catch {
            throw WebhookRefusal(.unresolvable, "webhook_url: \(host) does not resolve (\(error))")
        }
        guard let first = addresses.first else {
            throw WebhookRefusal(.unresolvable, "webhook_url: \(host) does not resolve (no address)")
        }
        if !policy.allows(host: host) {
            for address in addresses {
                if let refusal = policy.refusal(of: address) {
                    throw WebhookRefusal(.insideAddress, "webhook_url: \(host) resolves to \(address), \(refusal); \(allow)")
                }
            }
        }
        return WebhookTarget(url: url, host: host, address: first)
    }
}

extension WebhookResolver {
    /// The submission's check: a refused `webhook_url` is answered `422` with the reason.
    func check(_ url: String) async throws(APIError) {
        do {
            _ = try await target(for: url)
        } catch {
            throw APIError(.unprocessableContent, error.message)
        }
    }
}
