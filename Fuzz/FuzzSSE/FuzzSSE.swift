import FuzzSupport
import OpenAIUpstream

/// The SSE parser: no crash, no hang; the events, the reconnection time and whether the size
/// limit was hit are the same whether the stream arrives whole, split at one point, or one
/// byte at a time (short inputs).
func fuzzSSE(_ input: UnsafeBufferPointer<UInt8>) {
    let bytes = Array(input)
    let at = FuzzInputs.split(input, below: bytes.count + 1)
    for limit in [8 << 20, 64] {
        let whole = parse([bytes[...]], limit: limit)
        let split = parse([bytes[..<at], bytes[at...]], limit: limit)
        FuzzInputs.check(whole == split, "limit \(limit), whole: \(whole)\nsplit at \(at): \(split)")
        if bytes.count <= 512 {
            let single = parse(bytes.indices.map { bytes[$0...$0] }, limit: limit)
            FuzzInputs.check(whole == single, "limit \(limit), whole: \(whole)\nbyte by byte: \(single)")
        }
    }
}

/// What the parser reads from the pieces, then ``ServerSentEventParser/finish()``. When the
/// limit is hit, only that is kept: the events of the piece that hit it are lost with it.
private func parse(_ pieces: [ArraySlice<UInt8>], limit: Int) -> String {
    var parser = ServerSentEventParser(maximumEventSize: limit)
    var events: [ServerSentEvent] = []
    for piece in pieces {
        do {
            events += try parser.feed(piece)
        } catch {
            return "\(error)"
        }
    }
    let retry = parser.reconnectionTime
    events += parser.finish()
    return "\(events), retry \(String(describing: retry))"
}

@main
enum Main {
    static func main() {
        FuzzInputs.main(fuzzSSE)
    }
}
