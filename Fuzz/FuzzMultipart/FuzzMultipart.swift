import Foundation
import FuzzSupport
import PromptlineServer

/// The multipart form parser: no crash, no hang. The input's first line is the request's
/// `Content-Type` (its boundary, or `b` when it names none), the rest the body. Every part's
/// bytes lie inside the body, and a body that is a slice of a larger buffer (its indices not
/// starting at 0) reads the same.
func fuzzMultipart(_ input: UnsafeBufferPointer<UInt8>) {
    let newline = input.firstIndex(of: UInt8(ascii: "\n")) ?? input.endIndex
    let contentType = String(decoding: input[..<newline], as: UTF8.self)
    let boundary = MultipartForm.boundary(ofContentType: contentType) ?? "b"
    let body = Data(input[min(newline + 1, input.endIndex)...])
    let whole = describe(body, boundary: boundary)
    let slice = (Data("prefix".utf8) + body).dropFirst(6)
    FuzzInputs.check(describe(slice, boundary: boundary) == whole, "a sliced body reads differently: \(whole)")
}

private func describe(_ body: Data, boundary: String) -> String {
    do {
        let form = try MultipartForm(body, boundary: boundary)
        for part in form.parts {
            FuzzInputs.check(part.data.count <= body.count, "a part larger than the body")
        }
        return form.parts.map { "\($0.name) \($0.filename ?? "-") \($0.contentType ?? "-") \(Array($0.data))" }.joined(separator: "\n")
    } catch {
        return "\(error)"
    }
}

@main
enum Main {
    static func main() {
        FuzzInputs.main(fuzzMultipart)
    }
}
