import Foundation

/// A `multipart/form-data` body, as `POST /v1/files` receives it: named parts, each with
/// its bytes and, for a file, its file name and content type.
package struct MultipartForm {
    package struct Part {
        package var name: String
        package var filename: String?
        /// The part's `Content-Type` without parameters, lowercased; `nil` when it has none.
        package var contentType: String?
        package var data: Data
    }

    package var parts: [Part]

    package func part(named name: String) -> Part? { parts.first { $0.name == name } }

    /// The boundary of a `multipart/form-data` content type; `nil` for any other type.
    package static func boundary(ofContentType contentType: String) -> String? {
        guard let header = try? HeaderValue(contentType), header.value == "multipart/form-data",
              let boundary = header.parameters["boundary"], !boundary.isEmpty else { return nil }
        return boundary
    }

    package struct FormError: Error, CustomStringConvertible {
        package var description: String
    }

    /// Splits `body` at `boundary`. Throws a ``FormError`` saying what is malformed.
    package init(_ body: Data, boundary: String) throws {
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
            let (name, filename) = try Self.disposition(headers)
            guard let name else { throw FormError(description: "a multipart part has no Content-Disposition name") }
            parts.append(Part(
                name: name, filename: filename, contentType: Self.contentType(headers),
                data: body[headerEnd.upperBound..<end.lowerBound]
            ))
            cursor = end.upperBound
        }
        self.parts = parts
    }

    /// The media type of a part's `Content-Type` header (`text/plain; charset=utf-8` → `text/plain`).
    private static func contentType(_ headers: String) -> String? {
        for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-type:") {
            return (try? HeaderValue(line.dropFirst("content-type:".count)))?.value.lowercased()
        }
        return nil
    }

    /// `name` and file name of a part's `Content-Disposition: form-data; name="…"; filename="…"`.
    /// A `filename*` (RFC 6266: `filename*=UTF-8''na%C3%AFve.jsonl`) is preferred over `filename`.
    private static func disposition(_ headers: String) throws(FormError) -> (name: String?, filename: String?) {
        for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            do throws(FormError) {
                let header = try HeaderValue(line.dropFirst("content-disposition:".count))
                let filename = try header.parameters["filename*"].map(HeaderValue.extendedValue) ?? header.parameters["filename"]
                return (header.parameters["name"], filename)
            } catch {
                throw FormError(description: "a multipart part's Content-Disposition is malformed: \(error.description)")
            }
        }
        return (nil, nil)
    }
}
