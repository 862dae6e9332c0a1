import Foundation

/// A `multipart/form-data` body, as `POST /v1/files` receives it: named parts, each with
/// its bytes and, for a file, its file name.
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var data: Data
    }

    var parts: [Part]

    func part(named name: String) -> Part? { parts.first { $0.name == name } }

    /// The boundary of a `multipart/form-data` content type; `nil` for any other type.
    static func boundary(ofContentType contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            var value = piece.dropFirst("boundary=".count)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    struct FormError: Error, CustomStringConvertible {
        var description: String
    }

    /// Splits `body` at `boundary`. Throws a ``FormError`` saying what is malformed.
    init(_ body: Data, boundary: String) throws {
        let delimiter = Data("--\(boundary)".utf8)
        let separator = Data("\r\n\r\n".utf8)
        guard var cursor = body.range(of: delimiter)?.upperBound else {
            throw FormError(description: "the multipart body does not contain its boundary")
        }
        var parts: [Part] = []
        let next = Data("\r\n--\(boundary)".utf8)
        while true {
            // After a delimiter: "--" ends the body, "\r\n" starts a part.
            if body[cursor...].starts(with: Data("--".utf8)) { break }
            guard body[cursor...].starts(with: Data("\r\n".utf8)) else { throw FormError(description: "malformed multipart delimiter") }
            cursor += 2
            guard let headerEnd = body.range(of: separator, in: cursor..<body.endIndex) else {
                throw FormError(description: "a multipart part has no end of headers")
            }
            let headers = String(decoding: body[cursor..<headerEnd.lowerBound], as: UTF8.self)
            guard let end = body.range(of: next, in: headerEnd.upperBound..<body.endIndex) else {
                throw FormError(description: "a multipart part is not closed by the boundary")
            }
            let (name, filename) = Self.disposition(headers)
            guard let name else { throw FormError(description: "a multipart part has no Content-Disposition name") }
            parts.append(Part(name: name, filename: filename, data: body[headerEnd.upperBound..<end.lowerBound]))
            cursor = end.upperBound
        }
        self.parts = parts
    }

    /// `name` and `filename` of a part's `Content-Disposition: form-data; name="…"; filename="…"`.
    private static func disposition(_ headers: String) -> (name: String?, filename: String?) {
        for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            var name: String?
            var filename: String?
            for item in line.split(separator: ";").dropFirst() {
                let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { continue }
                var value = Substring(pair[1])
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
                switch pair[0].lowercased() {
                case "name": name = String(value)
                case "filename": filename = String(value)
                default: break
                }
            }
            return (name, filename)
        }
        return (nil, nil)
    }
}
