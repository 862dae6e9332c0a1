import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback port that nothing listens on (bound, read back, closed again).
func closedLoopbackPort() throws -> Int {
    let listener = try LoopbackListener()
    let port = listener.port
    listener.close()
    return port
}

struct SocketFailure: Error, CustomStringConvertible {
    var call: String
    var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
}

/// A blocking TCP listener on 127.0.0.1 and a free port.
final class LoopbackListener: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        self.descriptor = descriptor
        guard descriptor >= 0 else { throw SocketFailure(call: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else { throw SocketFailure(call: "bind/listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }
}

/// Answers one HTTP request with a fixed response on a background thread, and keeps the
/// request's head for the test to read.
final class OneShotHTTPServer: Sendable {
    private let listener: LoopbackListener
    private let received = Mutex<String?>(nil)
    private let done = DispatchSemaphore(value: 0)

    var port: Int { listener.port }

    init(response: String) throws {
        listener = try LoopbackListener()
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            let connection = accept(listener.descriptor, nil, nil)
            guard connection >= 0 else { return }
            defer { _ = close(connection) }
            var request: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(connection, &chunk, chunk.count)
                if count <= 0 { break }
                request += chunk[..<count]
                let text = String(decoding: request, as: UTF8.self)
                if let end = text.range(of: "\r\n\r\n") {
                    let head = text[..<end.lowerBound].lowercased()
                    let length = head.split(separator: "\r\n")
                        .first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if text.utf8.count - text.utf8.distance(from: text.startIndex, to: end.upperBound) >= length { break }
                }
            }
            received.withLock { $0 = String(decoding: request, as: UTF8.self) }
            let bytes = Array(response.utf8)
            _ = bytes.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
        }
    }

    /// The request as received, once the response went out.
    func request() -> String? {
        done.wait()
        listener.close()
        return received.withLock { $0 }
    }
}
