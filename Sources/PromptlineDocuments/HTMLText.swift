/// The readable text of an HTML page.
///
/// Tags are removed; the contents of `<head>`, `<script>`, `<style>`, `<title>`, `<noscript>`
/// and `<template>` are dropped, as are comments; character references are decoded (the
/// common named ones, all of Latin-1, and numeric ones). Whitespace is collapsed to single
/// spaces, and block elements break lines: `<p>`, `<h1>`…`<h6>`, lists, tables, `<pre>` and
/// `<blockquote>` start a paragraph (a blank line), `<div>`, `<li>`, `<tr>` and `<br>` a
/// line (two `<br>` in a row a paragraph). Line breaks inside `<pre>` are kept.
///
/// It is forgiving, as browsers are: unclosed tags, a missing `</head>` and stray `<` or `&`
/// are read as well as they can be, and nothing throws.
package enum HTMLText {
    /// The text of `html`, without markup.
    package static func plainText(fromHTML html: String) -> String {
        var converter = Converter(input: Array(html.utf8))
        return converter.run()
    }

    private enum Break: Int, Comparable {
        case none, space, line, paragraph
        static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The text written so far and the separator owed before the next visible character.
    private struct Writer {
        var bytes: [UInt8] = []
        private var pending = Break.none

        mutating func separate(_ separator: Break) { pending = max(pending, separator) }

        /// `<br>` or a newline in `<pre>`: a second one in a row makes a paragraph.
        mutating func lineBreak() { pending = pending >= .line ? .paragraph : .line }

        /// Appends visible bytes, after the separator owed (none at the very start).
        mutating func append<Bytes: Collection<UInt8>>(_ visible: Bytes) {
            if !bytes.isEmpty {
                switch pending {
                case .none: break
                case .space: bytes.append(0x20)
                case .line: bytes.append(0x0A)
                case .paragraph: bytes.append(contentsOf: [0x0A, 0x0A])
                }
            }
            pending = .none
            bytes.append(contentsOf: visible)
        }
    }

    private struct Converter {
        let input: [UInt8]
        var position = 0
        var writer = Writer()
        var inHead = false
        var preDepth = 0

        init(input: [UInt8]) { self.input = input }

        mutating func run() -> String {
            while position < input.count {
                switch input[position] {
                case UInt8(ascii: "<"): readMarkup()
                case UInt8(ascii: "&"): readCharacterReference()
                default: readText()
                }
            }
            return String(decoding: writer.bytes, as: UTF8.self)
        }

        // MARK: Text

        private mutating func readText() {
            let start = position
            while position < input.count, input[position] != UInt8(ascii: "<"), input[position] != UInt8(ascii: "&") {
                position += 1
            }
            guard !inHead else { return }
            write(input[start..<position])
        }

        /// Writes text, collapsing whitespace (a no-break space counts as one).
        private mutating func write(_ text: ArraySlice<UInt8>) {
            var index = text.startIndex
            var runStart = index
            while index < text.endIndex {
                let byte = text[index]
                let width: Int
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C {
                    width = 1
                } else if byte == 0xC2, index + 1 < text.endIndex, text[index + 1] == 0xA0 {
                    width = 2
                } else {
                    index += 1
                    continue
                }
                if runStart < index { writer.append(text[runStart..<index]) }
                if byte == 0x0A && preDepth > 0 { writer.lineBreak() } else { writer.separate(.space) }
                index += width
                runStart = index
            }
            if runStart < text.endIndex { writer.append(text[runStart..<text.endIndex]) }
        }

        // MARK: Markup

        private mutating func readMarkup() {
            let next = position + 1 < input.count ? input[position + 1] : 0
            if next == UInt8(ascii: "!") {
                if matches("<!--", at: position) {
                    skip(past: "-->", from: position + 4)
                } else if matches("<![CDATA[", at: position) {
                    let start = position + 9
                    let end = find("]]>", from: start) ?? input.count
                    if !inHead { write(input[start..<end]) }
                    position = min(end + 3, input.count)
                } else {
                    skip(past: ">", from: position + 2)
                }
            } else if next == UInt8(ascii: "?") {
                skip(past: ">", from: position + 2)
            } else if next == UInt8(ascii: "/") || isLetter(next) {
                readTag()
            } else {
                // A `<` that starts no tag is text.
                position += 1
                if !inHead { writer.append(CollectionOfOne(UInt8(ascii: "<"))) }
            }
        }

        private mutating func readTag() {
            var index = position + 1
            let closing = input[index] == UInt8(ascii: "/")
            if closing { index += 1 }
            let nameStart = index
            while index < input.count, isNameByte(input[index]) { index += 1 }
            let name = String(decoding: input[nameStart..<index].map(lowercased), as: UTF8.self)
            // The attributes, to the `>` outside quotes; a quote counts only as a value after `=`.
            var afterEquals = false
            var selfClosing = false
            while index < input.count, input[index] != UInt8(ascii: ">") {
                let byte = input[index]
                if afterEquals, byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    index = (input[(index + 1)...].firstIndex(of: byte) ?? input.count - 1) + 1
                    afterEquals = false
                    continue
                }
                if byte == UInt8(ascii: "=") {
                    afterEquals = true
                } else if !isWhitespace(byte) {
                    afterEquals = false
                }
                selfClosing = byte == UInt8(ascii: "/")
                index += 1
            }
            position = min(index + 1, input.count)
            guard !name.isEmpty else { return }
            if closing {
                close(name)
            } else {
                open(name, selfClosing: selfClosing)
            }
        }

        private mutating func open(_ name: String, selfClosing: Bool) {
            if Self.droppedElements.contains(name) {
                skipRawText(of: name, selfClosing: selfClosing)
                return
            }
            switch name {
            case "head": inHead = true; return
            case "body": inHead = false; return
            default:
                // Anything that cannot be in <head> means the page forgot to close it.
                if inHead && !Self.headElements.contains(name) { inHead = false }
            }
            guard !inHead else { return }
            switch name {
            case "br": writer.lineBreak()
            case "pre": preDepth += 1; writer.separate(.paragraph)
            case "td", "th": writer.separate(.space)
            default:
                if let separator = Self.blockElements[name] { writer.separate(separator) }
            }
        }

        private mutating func close(_ name: String) {
            switch name {
            case "head": inHead = false
            case "pre": preDepth = max(0, preDepth - 1); writer.separate(.paragraph)
            case "td", "th": writer.separate(.space)
            default:
                if !inHead, let separator = Self.blockElements[name] { writer.separate(separator) }
            }
        }

        /// Skips an element whose contents are not markup (`<script>`, `<style>`, …) through its
        /// end tag. As in browsers, `<script/>` still has contents, but one with no end tag after it
        /// is taken as empty rather than swallowing the rest of the page.
        private mutating func skipRawText(of name: String, selfClosing: Bool) {
            let endTag = Array("</\(name)".utf8)
            var index = position
            while let candidate = find(endTag, from: index, caseInsensitive: true) {
                let after = candidate + endTag.count
                if after >= input.count || !isNameByte(input[after]) {
                    position = candidate
                    skip(past: ">", from: after)
                    return
                }
                index = after
            }
            if !selfClosing { position = input.count }
        }

        // MARK: Character references

        private mutating func readCharacterReference() {
            guard let (scalar, length) = characterReference(at: position) else {
                position += 1
                if !inHead { writer.append(CollectionOfOne(UInt8(ascii: "&"))) }
                return
            }
            position += length
            guard !inHead else { return }
            if scalar == "\n" && preDepth > 0 {
                writer.lineBreak()
            } else if scalar.properties.isWhitespace {
                writer.separate(.space)
            } else if scalar != "\u{AD}" {  // a soft hyphen only marks where a word may break
                writer.append(Array(String(Character(scalar)).utf8))
            }
        }

        /// The scalar a reference at `start` (`&amp;`, `&#233;`, `&#xE9;`) stands for, and its
        /// length; `nil` when it is not one.
        private func characterReference(at start: Int) -> (Unicode.Scalar, Int)? {
            var index = start + 1
            if index < input.count, input[index] == UInt8(ascii: "#") {
                index += 1
                let hex = index < input.count && (input[index] == UInt8(ascii: "x") || input[index] == UInt8(ascii: "X"))
                if hex { index += 1 }
                let digitsStart = index
                var value: UInt32 = 0
                while index < input.count, let digit = digitValue(input[index], hex: hex), index - digitsStart < 8 {
                    value = value * (hex ? 16 : 10) + digit
                    index += 1
                }
                guard index > digitsStart else { return nil }
                if index < input.count, input[index] == UInt8(ascii: ";") { index += 1 }
                let scalar = value == 0 ? nil : Unicode.Scalar(value)
                return (scalar ?? "\u{FFFD}", index - start)
            }
            let nameStart = index
            while index < input.count, index - nameStart < 10, isLetter(input[index]) || isDigit(input[index]) {
                index += 1
            }
            guard index < input.count, input[index] == UInt8(ascii: ";"), index > nameStart else { return nil }
            let name = String(decoding: input[nameStart..<index], as: UTF8.self)
            guard let value = Self.namedReferences[name], let scalar = Unicode.Scalar(value) else { return nil }
            return (scalar, index + 1 - start)
        }

        // MARK: Bytes

        private func matches(_ text: String, at index: Int) -> Bool {
            let bytes = Array(text.utf8)
            return index + bytes.count <= input.count && input[index..<(index + bytes.count)].elementsEqual(bytes)
        }

        private func find(_ text: String, from start: Int) -> Int? {
            find(Array(text.utf8), from: start, caseInsensitive: false)
        }

        private func find(_ needle: [UInt8], from start: Int, caseInsensitive: Bool) -> Int? {
            guard !needle.isEmpty, start + needle.count <= input.count else { return nil }
            var index = start
            while index + needle.count <= input.count {
                var offset = 0
                while offset < needle.count {
                    let byte = input[index + offset]
                    guard (caseInsensitive ? lowercased(byte) : byte) == needle[offset] else { break }
                    offset += 1
                }
                if offset == needle.count { return index }
                index += 1
            }
            return nil
        }

        private mutating func skip(past terminator: String, from start: Int) {
            let bytes = Array(terminator.utf8)
            position = find(bytes, from: min(start, input.count), caseInsensitive: false).map { $0 + bytes.count } ?? input.count
        }

        private func isLetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        }

        private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

        private func isNameByte(_ byte: UInt8) -> Bool {
            isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
        }

        private func isWhitespace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C
        }

        private func lowercased(_ byte: UInt8) -> UInt8 {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
        }

        private func digitValue(_ byte: UInt8, hex: Bool) -> UInt32? {
            if isDigit(byte) { return UInt32(byte - UInt8(ascii: "0")) }
            guard hex else { return nil }
            let lower = lowercased(byte)
            guard (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(lower) else { return nil }
            return UInt32(lower - UInt8(ascii: "a") + 10)
        }

        // MARK: Tables

        /// Elements whose contents are not text for a reader.
        static let droppedElements: Set<String> = ["script", "style", "title", "noscript", "template"]

        /// Elements that may stand in `<head>`.
        static let headElements: Set<String> = [
            "meta", "link", "base", "title", "style", "script", "noscript", "template",
        ]

        /// Block elements and the break each makes before and after itself.
        static let blockElements: [String: Break] = {
            var elements: [String: Break] = [:]
            for name in [
                "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "hr",
                "section", "article", "aside", "figure", "details", "address", "fieldset", "form",
            ] {
                elements[name] = .paragraph
            }
            for name in [
                "div", "li", "tr", "dt", "dd", "caption", "figcaption", "header", "footer", "nav", "main",
                "summary", "legend", "option", "center", "thead", "tbody", "tfoot",
            ] {
                elements[name] = .line
            }
            return elements
        }()

        /// Named character references: the common ones, and all of Latin-1.
        static let namedReferences: [String: UInt32] = {
            var references: [String: UInt32] = [
                "amp": 38, "lt": 60, "gt": 62, "quot": 34, "apos": 39,
                "OElig": 338, "oelig": 339, "Scaron": 352, "scaron": 353, "Yuml": 376, "fnof": 402,
                "circ": 710, "tilde": 732, "ensp": 8194, "emsp": 8195, "thinsp": 8201,
                "zwnj": 8204, "zwj": 8205, "lrm": 8206, "rlm": 8207,
                "ndash": 8211, "mdash": 8212, "lsquo": 8216, "rsquo": 8217, "sbquo": 8218,
                "ldquo": 8220, "rdquo": 8221, "bdquo": 8222, "dagger": 8224, "Dagger": 8225,
                "bull": 8226, "hellip": 8230, "permil": 8240, "prime": 8242, "Prime": 8243,
                "lsaquo": 8249, "rsaquo": 8250, "oline": 8254, "frasl": 8260, "euro": 8364,
                "trade": 8482, "larr": 8592, "uarr": 8593, "rarr": 8594, "darr": 8595, "harr": 8596,
                "minus": 8722, "infin": 8734, "asymp": 8776, "ne": 8800, "le": 8804, "ge": 8805,
            ]
            // U+00A0 through U+00FF, in order.
            let latin1 = """
                nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr \
                deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest \
                Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml \
                ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig \
                agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml \
                eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml
                """
            for (offset, name) in latin1.split(separator: " ").enumerated() {
                references[String(name)] = 0xA0 + UInt32(offset)
            }
            return references
        }()
    }
}
