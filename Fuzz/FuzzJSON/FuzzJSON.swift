import FuzzSupport
import PromptlineCore

/// `JSONValue.parse`: no crash, no hang; a value it reads, written as canonical JSON, reads
/// back as the same value (unless it holds a number too large for a double, which is written
/// as `null`), and its canonical JSON is a fixed point.
func fuzzJSON(_ input: UnsafeBufferPointer<UInt8>) {
    guard let value = try? JSONValue.parse(input) else { return }
    let canonical = value.canonicalBytes
    let again: JSONValue
    do {
        again = try canonical.withUnsafeBufferPointer { try JSONValue.parse($0) }
    } catch {
        FuzzInputs.check(false, "canonical JSON does not parse: \(error)\n\(String(decoding: canonical, as: UTF8.self))")
        return
    }
    if value.isFinite {
        FuzzInputs.check(again == value, "\(value) reads back as \(again)")
    }
    FuzzInputs.check(again.canonicalBytes == canonical, "canonical JSON is not a fixed point: \(String(decoding: canonical, as: UTF8.self))")
}

extension JSONValue {
    /// Every number is finite (so canonical JSON writes it as a number).
    fileprivate var isFinite: Bool {
        switch self {
        case .null, .bool, .string: true
        case .number(let number): number.isFinite
        case .array(let values): values.allSatisfy(\.isFinite)
        case .object(let members): members.values.allSatisfy(\.isFinite)
        }
    }
}

@main
enum Main {
    static func main() {
        FuzzInputs.main(fuzzJSON)
    }
}
