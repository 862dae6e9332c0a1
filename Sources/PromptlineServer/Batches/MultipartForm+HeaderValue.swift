import Foundation

extension MultipartForm {
    /// A header value with parameters, as `Content-Type` and `Content-Disposition` carry them
    /// (RFC 9110 §5.6.6, RFC 6266): `form-data; name="file"; filename="a;b.jsonl"`.
    ///
    /// A parameter's value is a quoted string, whose backslash escapes are undone and in which
    /// a `;` belongs to the value, or a bare value up to the next `;` or space (read more
    /// leniently than a token: boundaries such as `----=_Part_0` hold bytes a token may not).
    /// Anything else is a ``FormError`` that says what is wrong.
    struct HeaderValue {
        /// What comes before the first parameter, lowercased: `multipart/form-data`, `form-data`.
        var value: String
        /// The parameters by lowercased name; an extended one (`filename*`) keeps its `*` and
        /// its value as sent (see ``extendedValue(_:)``).
        var parameters: [String: String]

        init(_ text: some StringProtocol) throws(FormError) {
            var reader = Reader(bytes: Array(text.utf8))
            value = String(decoding: reader.read { $0 != .semicolon }, as: UTF8.self)
                .trimmingCharacters(in: .whitespaces).lowercased()
            guard !value.isEmpty else { throw FormError(description: "no value stands before the parameters") }
            parameters = [:]
            while true {
                reader.skipWhitespace()
                guard let separator = reader.next() else { break }
                guard separator == .semicolon else { throw FormError(description: "expected ';' before the next parameter") }
                reader.skipWhitespace()
                // A trailing ';' ends the value as well.
                if reader.isAtEnd { break }
                let name = String(decoding: reader.read(while: Self.isTokenByte), as: UTF8.self).lowercased()
                guard !name.isEmpty else { throw FormError(description: "a parameter has no name") }
                reader.skipWhitespace()
                guard reader.next() == .equals else { throw FormError(description: "parameter \(name) has no '='") }
                reader.skipWhitespace()
                let quoted = reader.peek() == .quote
                let parameter = quoted ? try reader.readQuoted(parameter: name) : reader.read(while: Self.isBareValueByte)
                guard quoted || !parameter.isEmpty else { throw FormError(description: "parameter \(name) has no value") }
                guard parameters.updateValue(String(decoding: parameter, as: UTF8.self), forKey: name) == nil else {
                    throw FormError(description: "parameter \(name) is given twice")
                }
            }
        }

        /// Decodes an extended parameter value (RFC 8187, as RFC 6266 uses it for `filename*`):
        /// `charset'language'percent-encoded`, for example `UTF-8''na%C3%AFve.jsonl`. The
        /// charset is UTF-8 or ISO-8859-1; the language is ignored.
        static func extendedValue(_ text: String) throws(FormError) -> String {
            let pieces = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
            guard pieces.count == 3, !pieces[0].isEmpty else {
                throw FormError(description: "an extended parameter value is not charset'language'value: \(text)")
            }
            let hexDigit = { (byte: UInt8?) in byte.flatMap { Character(Unicode.Scalar($0)).hexDigitValue } }
            var bytes: [UInt8] = []
            var encoded = pieces[2].utf8.makeIterator()
            while let byte = encoded.next() {
                if byte == UInt8(ascii: "%") {
                    guard let high = hexDigit(encoded.next()), let low = hexDigit(encoded.next()) else {
                        throw FormError(description: "an extended parameter value has a '%' not followed by two hex digits: \(text)")
                    }
                    bytes.append(UInt8(high << 4 | low))
                } else if isAttributeByte(byte) {
                    bytes.append(byte)
                } else {
                    throw FormError(description: "an extended parameter value has a character that must be percent-encoded: \(text)")
                }
            }
            switch pieces[0].lowercased() {
            case "utf-8":
                guard let decoded = String(validating: bytes, as: UTF8.self) else {
                    throw FormError(description: "an extended parameter value is not valid UTF-8: \(text)")
                }
                return decoded
            case "iso-8859-1":
                return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
            default:
                throw FormError(description: "an extended parameter value is in charset \(pieces[0]); only UTF-8 and ISO-8859-1 are read")
            }
        }

        /// `tchar` of RFC 9110: the bytes of a token.
        private static func isTokenByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default:
                "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }

        /// The bytes of a value without quotes: anything visible but `;` and `"`.
        private static func isBareValueByte(_ byte: UInt8) -> Bool {
            byte > .space && byte != 0x7F && byte != .semicolon && byte != .quote
        }

        /// `attr-char` of RFC 8187: the bytes an extended value may carry without `%`.
        private static func isAttributeByte(_ byte: UInt8) -> Bool {
            isTokenByte(byte) && !"*'%".utf8.contains(byte)
        }
    }

    /// Reads a header value's bytes from left to right.
    private struct Reader {
        let bytes: [UInt8]
        var index = 0
        var isAtEnd: Bool { index == bytes.endIndex }

        func peek() -> UInt8? { isAtEnd ? nil : bytes[index] }

        mutating func next() -> UInt8? {
            guard let byte = peek() else { return nil }
            index += 1
            return byte
        }

        mutating func skipWhitespace() {
            while let byte = peek(), byte == .space || byte == .tab { index += 1 }
        }

        mutating func read(while accepts: (UInt8) -> Bool) -> ArraySlice<UInt8> {
            let start = index
            while let byte = peek(), accepts(byte) { index += 1 }
            return bytes[start..<index]
        }

        /// A quoted string from its opening quote: its content with `\x` read as `x`.
        mutating func readQuoted(parameter: String) throws(FormError) -> ArraySlice<UInt8> {
            let unclosed = FormError(description: "parameter \(parameter) has a quoted string that is never closed")
            index += 1
            var content: [UInt8] = []
            while let byte = next() {
                switch byte {
                case .quote:
                    return content[...]
                case .backslash:
                    guard let escaped = next() else { throw unclosed }
                    content.append(escaped)
                default:
                    content.append(byte)
                }
            }
            throw unclosed
        }
    }
}

extension UInt8 {
    fileprivate static let semicolon = UInt8(ascii: ";")
    fileprivate static let equals = UInt8(ascii: "=")
    fileprivate static let quote = UInt8(ascii: "\"")
    fileprivate static let backslash = UInt8(ascii: "\\")
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let tab = UInt8(ascii: "\t")
}
