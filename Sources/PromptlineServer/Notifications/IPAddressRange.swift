/// A block of addresses in CIDR form (`10.0.0.0/8`, `fc00::/7`); a lone address is the
/// block of that one address (`/32` or `/128`).
package struct IPAddressRange: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the block.
    package let base: IPAddress
    /// How many leading bits every address of the block shares with `base`.
    package let prefixLength: Int

    /// A block from its base and prefix length; `nil` when the length does not fit the
    /// address. Bits of `base` past the prefix are ignored.
    package init?(_ base: IPAddress, prefixLength: Int) {
        guard (0...base.bytes.count * 8).contains(prefixLength) else { return nil }
        self.base = base
        self.prefixLength = prefixLength
    }

    /// Reads `10.0.0.0/8`, `fe80::/10` or a lone address; `nil` for anything else.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let base = IPAddress(String(parts[0])) else { return nil }
        if parts.count == 1 {
            self.init(base, prefixLength: base.bytes.count * 8)
        } else {
            guard parts[1].allSatisfy(\.isASCII), let length = Int(parts[1]) else { return nil }
            self.init(base, prefixLength: length)
        }
    }

    /// Whether `address` is in the block; an IPv4 address is never in an IPv6 block, nor
    /// the other way round.
    package func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == base.bytes.count else { return false }
        var bits = prefixLength
        for (a, b) in zip(address.bytes, base.bytes) where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xff : ~(0xff >> UInt8(bits))
            guard a & mask == b & mask else { return false }
            bits -= 8
        }
        return true
    }

    package var description: String { "\(base)/\(prefixLength)" }
}
