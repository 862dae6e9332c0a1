import Foundation

/// Which addresses a webhook may reach: none inside (loopback, private, link-local with the
/// cloud metadata address, multicast, unspecified or otherwise reserved), except the hosts
/// and blocks the operator allowed with `--webhook-allow-hosts`.
///
/// Pure: it classifies addresses and matches names; ``WebhookResolver`` resolves the host
/// and asks it about every address found.
package struct WebhookAddressPolicy: Sendable, Hashable, CustomStringConvertible {
    /// Host names allowed whatever they resolve to: lowercased, without a trailing dot.
    package private(set) var hosts: Set<String> = []
    /// Addresses and blocks allowed (a lone address is a block of one).
    package private(set) var ranges: [IPAddressRange] = []

    /// Why an address is refused; the phrase completes "127.0.0.1 is …".
    package enum Refusal: String, Sendable, Hashable, CustomStringConvertible {
        case loopback = "a loopback address"
        case privateNetwork = "a private address"
        case linkLocal = "a link-local address"
        case metadata = "the cloud metadata address"
        case multicast = "a multicast address"
        case unspecified = "the unspecified address"
        case broadcast = "the broadcast address"
        case reserved = "a reserved address"

        package var description: String { rawValue }
    }

    /// Allows nothing inside.
    package init() {}

    /// Reads a comma-separated list of host names, addresses and CIDR blocks
    /// (`hooks.internal, 10.1.2.3, 192.168.0.0/16, [fd00::1]`); refuses an entry that is
    /// none of them.
    package init(allowing list: String) throws(SettingProblem) {
        for raw in list.split(separator: ",") {
            var entry = raw.trimmingCharacters(in: .whitespaces)
            if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
                entry = String(entry[entry.index(after: entry.startIndex)..<close]) + entry[entry.index(after: close)...]
            }
            if entry.isEmpty { continue }
            if let range = IPAddressRange(entry) {
                ranges.append(range)
            } else if entry.contains("/") || entry.contains(":") {
                throw SettingProblem(reason: "'\(entry)' is neither a host name, an address nor a CIDR block such as 10.0.0.0/8")
            } else if Self.isHostName(entry) {
                hosts.insert(Self.normalized(entry))
            } else {
                throw SettingProblem(reason: "'\(entry)' is not a host name, an address or a CIDR block")
            }
        }
    }

    /// Whether nothing is allowed beyond the default.
    package var isEmpty: Bool { hosts.isEmpty && ranges.isEmpty }

    /// The list as it reads back.
    package var description: String {
        (hosts.sorted() + ranges.map { $0.prefixLength == $0.base.bytes.count * 8 ? "\($0.base)" : "\($0)" })
            .joined(separator: ",")
    }

    /// Whether the host name itself was allowed: then any address it resolves to is.
    package func allows(host: String) -> Bool {
        hosts.contains(Self.normalized(host))
    }

    /// Why `address` may not be reached, or `nil` when it may. An IPv4-mapped or NAT64
    /// address is judged as the IPv4 address it carries.
    package func refusal(of address: IPAddress) -> Refusal? {
        if ranges.contains(where: { $0.contains(address) }) { return nil }
        if let v4 = address.embeddedIPv4 { return refusal(of: v4) }
        return Self.classify(address)
    }

    /// The class of an address that is not public, or `nil` for a public one. The allow
    /// list plays no part.
    package static func classify(_ address: IPAddress) -> Refusal? {
        if let v4 = address.embeddedIPv4 { return classify(v4) }
        return (address.isIPv4 ? ipv4Blocks : ipv6Blocks).first { $0.range.contains(address) }?.refusal
    }

    // MARK: The blocks (IANA special-purpose registries, RFC 6890 and its updates)

    /// First match wins, so the narrow blocks come before the wide ones that hold them.
    private static let ipv4Blocks = blocks([
        "0.0.0.0/32": .unspecified,
        "0.0.0.0/8": .reserved,  // "this network"
        "10.0.0.0/8": .privateNetwork,
        "100.64.0.0/10": .reserved,  // shared address space (CGNAT)
        "127.0.0.0/8": .loopback,
        "169.254.169.254/32": .metadata,
        "169.254.0.0/16": .linkLocal,
        "172.16.0.0/12": .privateNetwork,
        "192.0.0.0/24": .reserved,  // IETF protocol assignments
        "192.0.2.0/24": .reserved,  // documentation
        "192.88.99.0/24": .reserved,  // 6to4 relay anycast
        "192.168.0.0/16": .privateNetwork,
        "198.18.0.0/15": .reserved,  // benchmarking
        "198.51.100.0/24": .reserved,  // documentation
        "203.0.113.0/24": .reserved,  // documentation
        "224.0.0.0/4": .multicast,
        "255.255.255.255/32": .broadcast,
        "240.0.0.0/4": .reserved,
    ])

    private static let ipv6Blocks = blocks([
        "::/128": .unspecified,
        "::1/128": .loopback,
        "::/8": .reserved,  // IPv4-compatible and the rest of the reserved block
        "100::/64": .reserved,  // discard-only
        "64:ff9b:1::/48": .reserved,  // local-use NAT64
        "2001::/23": .reserved,  // IETF protocol assignments (Teredo, ORCHID, …)
        "2001:db8::/32": .reserved,  // documentation
        "fd00:ec2::254/128": .metadata,  // the cloud metadata address over IPv6
        "fc00::/7": .privateNetwork,  // unique local addresses
        "fe80::/10": .linkLocal,
        "fec0::/10": .privateNetwork,  // site-local, deprecated
        "ff00::/8": .multicast,
    ])

    /// The table from its text (WebhookAddressPolicyTests has an address in every block).
    private static func blocks(_ entries: KeyValuePairs<String, Refusal>) -> [(range: IPAddressRange, refusal: Refusal)] {
        entries.compactMap { text, refusal in IPAddressRange(text).map { ($0, refusal) } }
    }

    // MARK: Names

    private static func normalized(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }

    /// Letters, digits, hyphens and dots (a trailing dot allowed), with no empty label.
    private static func isHostName(_ text: String) -> Bool {
        let name = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }
}
