import FuzzSupport
import NIOCore
import RedisClient

/// The RESP parser: no crash, no hang; the values (and the error or the bytes left over) are
/// the same whether the input arrives whole or in pieces (one byte at a time for short inputs).
func fuzzRESP(_ input: UnsafeBufferPointer<UInt8>) {
    let whole = parse([input.count], input)
    let pieceSize = input.count <= 512 ? 1 : 1 + FuzzInputs.split(input, below: 64)
    let pieces = parse(Array(repeating: pieceSize, count: input.count / pieceSize + 1), input)
    FuzzInputs.check(whole == pieces, "whole: \(whole)\nin pieces of \(pieceSize): \(pieces)")
}

/// The values read from `input` fed in pieces of the given sizes, and how the stream ended.
private func parse(_ sizes: [Int], _ input: UnsafeBufferPointer<UInt8>) -> String {
    let parser = RESPParser()
    var buffer = ByteBuffer()
    var values: [RESPValue] = []
    var fed = 0
    for size in sizes where fed < input.count {
        let end = min(fed + size, input.count)
        buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[fed..<end])))
        fed = end
        do {
            while let value = try parser.next(from: &buffer) { values.append(value) }
        } catch {
            return "\(values) then \(error)"
        }
    }
    // Described rather than compared: a double may be NaN, which equals nothing.
    return "\(values) with \(buffer.readableBytes) bytes left"
}

@main
enum Main {
    static func main() {
        FuzzInputs.main(fuzzRESP)
    }
}
