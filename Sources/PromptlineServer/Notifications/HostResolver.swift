#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOPosix

/// Looks a host name up with the system resolver (`getaddrinfo`, so `/etc/hosts` and the
/// configured DNS), on NIO's blocking thread pool: never on an event loop.
package enum HostResolver {
    /// Why a name did not resolve.
    package struct Failure: Error, Sendable, CustomStringConvertible {
        /// `gai_strerror`'s text, e.g. "Name or service not known".
        package let reason: String
        package var description: String { reason }
    }

    /// Every IPv4 and IPv6 address `host` resolves to, in the resolver's order, without repeats.
    package static func addresses(of host: String) async throws -> [IPAddress] {
        try await NIOThreadPool.singleton.runIfActive { try lookUp(host) }
    }

    private static func lookUp(_ host: String) throws(Failure) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if os(Linux)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, nil, &hints, &list)
        guard code == 0, let first = list else {
            throw Failure(reason: code == 0 ? "no address" : String(cString: gai_strerror(code)))
        }
        defer { freeaddrinfo(first) }
        var found: [IPAddress] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let entry = node?.pointee {
            node = entry.ai_next
            guard let socketAddress = entry.ai_addr else { continue }
            let address: IPAddress?
            switch entry.ai_family {
            case AF_INET:
                address = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                    withUnsafeBytes(of: v4.pointee.sin_addr) { IPAddress(bytes: Array($0)) }
                }
            case AF_INET6:
                address = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                    withUnsafeBytes(of: v6.pointee.sin6_addr) { IPAddress(bytes: Array($0)) }
                }
            default:
                address = nil
            }
            if let address, !found.contains(address) { found.append(address) }
        }
        guard !found.isEmpty else { throw Failure(reason: "no IPv4 or IPv6 address") }
        return found
    }
}
