/// A deterministic fault for one prompt, written into the prompt's last user message as
/// `[[mock:key=value,key=value]]`.
///
/// Keys: `status=N`, `type=T`, `times=K`, `retry_after_ms=N`, `latency_ms=N`, `stall_ms=N`,
/// `token_delay_ms=N`, and the flags `reset` and `cut`. Unknown keys and unreadable values are ignored.
/// The directive applies to the first `times` calls for its exact prompt (every call without `times`);
/// later calls are answered as if it were not there.
struct MockDirective: Sendable, Equatable {
    var status: Int?
    var type: String?
    var times: Int?
    var retryAfterMilliseconds: Int?
    var latency: Duration?
    var stall: Duration?
    var tokenDelay: Duration?
    var reset = false
    var cut = false

    /// Whether the directive makes the answer anything but a normal one.
    var hasFault: Bool {
        (status.map { $0 >= 400 } ?? false) || reset || cut || stall != nil
    }

    /// Whether the directive still applies to the `call`-th call (1-based) for its prompt.
    func applies(toCall call: Int) -> Bool {
        times.map { call <= $0 } ?? true
    }

    private static let opening = Array("[[mock:".utf8)

    /// The directive in `text`, or `nil` when there is none.
    init?(in text: String) {
        var text = text
        let list: String? = text.withUTF8 { bytes in
            let opening = Self.opening
            var index = 0
            while index + opening.count + 2 <= bytes.count {
                if opening.indices.allSatisfy({ bytes[index + $0] == opening[$0] }) {
                    let start = index + opening.count
                    var end = start
                    while end + 1 < bytes.count {
                        if bytes[end] == UInt8(ascii: "]"), bytes[end + 1] == UInt8(ascii: "]") {
                            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                        }
                        end += 1
                    }
                    return nil
                }
                index += 1
            }
            return nil
        }
        guard let list else { return nil }
        self.init(parsing: list)
    }

    /// Reads the `key=value,…` list of a directive.
    init(parsing list: String) {
        for item in list.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            let key = parts[0].trimmingSpaces().lowercased()
            let value = parts.count > 1 ? parts[1].trimmingSpaces() : ""
            let number = Int(value)
            let milliseconds = number.flatMap { $0 >= 0 ? Duration.milliseconds($0) : nil }
            switch key {
            case "status": status = number
            case "type": type = value.isEmpty ? nil : value
            case "times": times = number.map { max(0, $0) }
            case "retry_after_ms": retryAfterMilliseconds = number.map { max(0, $0) }
            case "latency_ms": latency = milliseconds
            case "stall_ms": stall = milliseconds
            case "token_delay_ms": tokenDelay = milliseconds
            case "reset": reset = Self.flag(value)
            case "cut": cut = Self.flag(value)
            default: continue
            }
        }
    }

    private static func flag(_ value: String) -> Bool {
        !["0", "false", "no", "off"].contains(value.lowercased())
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
