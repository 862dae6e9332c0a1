import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP/1.1 response as read off the wire.
struct RawHTTPResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw RawHTTPError(reason: "body is not a JSON object: \(text)", received: body)
        }
        return object
    }

    /// The `data:` payloads of a server-sent-events body, in order.
    var events: [String] {
        text.components(separatedBy: "\n\n").compactMap { event in
            event.hasPrefix("data: ") ? String(event.dropFirst(6)) : nil
        }
    }
}

/// The connection ended (or timed out) before a whole response was read.
struct RawHTTPError: Error, CustomStringConvertible {
    var reason: String
    /// Every byte received for the response, head included.
    var received: [UInt8]

    var description: String { "\(reason) after \(received.count) bytes" }
}

/// A blocking HTTP/1.1 client over a plain socket, so that tests see exactly what the server sends:
/// pipelined answers, resets and answers cut short.
final class RawHTTPConnection {
    private let socketDescriptor: Int32
    private var buffered: [UInt8] = []
    /// Bytes of the response being read, head included, for error reports.
    private var consumed: [UInt8] = []

    init(port: Int, timeoutSeconds: Int = 10) throws {
        #if canImport(Glibc)
        socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        socketDescriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard socketDescriptor >= 0 else { throw RawHTTPError(reason: "socket() failed", received: []) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(socketDescriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(socketDescriptor)
            throw RawHTTPError(reason: "connect() failed: errno \(errno)", received: [])
        }
    }

    deinit {
        close(socketDescriptor)
    }

    func send(_ text: String) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeMutableBytes {
                Glibc_send(socketDescriptor, $0.baseAddress! + offset, $0.count - offset)
            }
            guard sent > 0 else { throw RawHTTPError(reason: "send() failed: errno \(errno)", received: []) }
            offset += sent
        }
    }

    /// The text of a request, with `content-length` when there is a body.
    static func request(_ method: String, _ path: String, body: String? = nil, headers: [String] = []) -> String {
        var lines = ["\(method) \(path) HTTP/1.1", "host: 127.0.0.1"] + headers
        if let body {
            lines += ["content-type: application/json", "content-length: \(body.utf8.count)"]
        }
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? "")
    }

    /// Reads one whole response (content-length or chunked body).
    func readResponse() throws -> RawHTTPResponse {
        consumed = []
        let headText = String(decoding: try readHead(), as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw RawHTTPError(reason: "bad status line in \(headText)", received: consumed)
        }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var response = RawHTTPResponse(status: status, headers: headers, body: [])
        if status < 200 {
            return try readResponse()
        }
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                let sizeLine = String(decoding: try readLine(), as: UTF8.self)
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                    throw RawHTTPError(reason: "bad chunk size \(sizeLine)", received: consumed)
                }
                if size == 0 {
                    _ = try readLine()
                    break
                }
                response.body += try readBytes(size)
                _ = try readLine()
            }
        } else if let length = response.header("content-length").flatMap({ Int($0) }) {
            response.body = try readBytes(length)
        }
        return response
    }

    /// Reads until the server closes the connection; returns what came, or throws on a timeout.
    func readUntilClosed() throws -> [UInt8] {
        var all = buffered
        buffered = []
        while let more = try receive() {
            all += more
        }
        return all
    }

    private func readHead() throws -> [UInt8] {
        var head: [UInt8] = []
        while true {
            let line = try readLine()
            if line.isEmpty { return head }
            head += line + [13, 10]
        }
    }

    private func readLine() throws -> [UInt8] {
        while true {
            if let newline = buffered.firstIndex(of: 10) {
                var line = Array(buffered[..<newline])
                buffered.removeSubrange(...newline)
                consumed += line + [10]
                if line.last == 13 { line.removeLast() }
                return line
            }
            try fill()
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while buffered.count < count {
            try fill()
        }
        let bytes = Array(buffered[..<count])
        buffered.removeSubrange(..<count)
        consumed += bytes
        return bytes
    }

    private func fill() throws {
        guard let more = try receive() else {
            consumed += buffered
            throw RawHTTPError(reason: "connection closed", received: consumed)
        }
        buffered += more
    }

    /// The next bytes, or `nil` once the connection is closed (orderly or by reset).
    private func receive() throws -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(socketDescriptor, $0.baseAddress, $0.count, 0) }
        if count > 0 { return Array(chunk[..<count]) }
        if count == 0 || errno == ECONNRESET { return nil }
        throw RawHTTPError(reason: "recv() failed: errno \(errno) (timeout?)", received: consumed + buffered)
    }
}

private func Glibc_send(_ socket: Int32, _ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.send(socket, pointer, count, Int32(MSG_NOSIGNAL))
    #else
    Darwin.send(socket, pointer, count, 0)
    #endif
}
