#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as its bytes in network order: 4 for IPv4, 16 for IPv6.
///
/// Only what the webhook address checks need: reading the text form (`inet_pton`, so the
/// exact dotted-quad or RFC 4291 form, nothing shorter), writing it (`inet_ntop`), and the
/// IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) one.
package struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    package let bytes: [UInt8]

    /// An address from its bytes; `nil` unless there are 4 or 16.
    package init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Reads `127.0.0.1` or `::1` (without brackets); `nil` for anything else.
    package init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    package var isIPv4: Bool { bytes.count == 4 }

    /// The IPv4 address an IPv6 one carries in its last 4 bytes when it is IPv4-mapped
    /// (`::ffff:0:0/96`) or on the well-known NAT64 prefix (`64:ff9b::/96`): connecting to it
    /// reaches that IPv4 address, so it is checked as that one.
    package var embeddedIPv4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        let prefix = bytes[0..<12]
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
        let nat64: [UInt8] = [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]
        guard prefix.elementsEqual(mapped) || prefix.elementsEqual(nat64) else { return nil }
        return IPAddress(bytes: Array(bytes[12...]))
    }

    /// The usual text form: `10.0.0.1`, `::1`, `::ffff:127.0.0.1`.
    package var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv4 ? AF_INET : AF_INET6
        let written = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count))
        }
        guard written != nil else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
