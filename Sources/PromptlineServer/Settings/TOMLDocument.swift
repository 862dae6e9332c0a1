/// A TOML document (toml.io v1.0) as the config file is read: every key keeps the line it
/// was written on, so a refusal can name it. Dates and times are refused: no setting takes
/// one. Written here rather than on TOMLKit because TOMLKit keeps no positions for keys.
package struct TOMLTable: Sendable, Equatable {
    /// One key of a table, in the order written.
    package struct Entry: Sendable, Equatable {
        package var key: String
        package var value: TOMLValue
        package var line: Int
    }

    package private(set) var entries: [Entry] = []

    package init() {}

    package subscript(key: String) -> Entry? {
        entries.first { $0.key == key }
    }
}

/// A TOML value.
package indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    var isTable: Bool {
        if case .table = self { true } else { false }
    }

    /// The kind of value as a message names it.
    package var kindName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .boolean: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// Why a TOML document could not be read, and on which line.
package struct TOMLError: Error, Equatable, CustomStringConvertible {
    package var line: Int
    package var reason: String
    package var description: String { "line \(line): \(reason)" }
}

extension TOMLTable {
    /// Reads a whole document.
    package static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var parser = TOMLParser(text)
        return try parser.document()
    }

    /// Sets `value` at `path` below this table, making the tables on the way; a key that
    /// leads into an array of tables goes into its last table.
    /// With `allowExistingTable`, a table already there (made by a longer header) is kept.
    fileprivate mutating func insert(
        _ value: TOMLValue, at path: ArraySlice<String>, line: Int, allowExistingTable: Bool = false
    ) throws(TOMLError) {
        let key = path.first!
        let index = entries.firstIndex { $0.key == key }
        if path.count == 1 {
            if let index {
                if allowExistingTable {
                    guard case .table = entries[index].value else {
                        throw TOMLError(line: line, reason: "'\(key)' is \(entries[index].value.kindName) (line \(entries[index].line)), not a table")
                    }
                    return
                }
                throw TOMLError(line: line, reason: "'\(key)' is defined twice (first on line \(entries[index].line))")
            }
            entries.append(Entry(key: key, value: value, line: line))
            return
        }
        guard let index else {
            var table = TOMLTable()
            try table.insert(value, at: path.dropFirst(), line: line, allowExistingTable: allowExistingTable)
            entries.append(Entry(key: key, value: .table(table), line: line))
            return
        }
        switch entries[index].value {
        case .table(var table):
            try table.insert(value, at: path.dropFirst(), line: line, allowExistingTable: allowExistingTable)
            entries[index].value = .table(table)
        case .array(var tables) where tables.last?.isTable ?? false:
            guard case .table(var last) = tables.removeLast() else { fatalError("checked above") }
            try last.insert(value, at: path.dropFirst(), line: line, allowExistingTable: allowExistingTable)
            tables.append(.table(last))
            entries[index].value = .array(tables)
        default:
            throw TOMLError(line: line, reason: "'\(key)' is \(entries[index].value.kindName) (line \(entries[index].line)), not a table")
        }
    }

    /// Appends a new, empty table to the array of tables at `path` (`[[path]]`).
    fileprivate mutating func appendTable(at path: ArraySlice<String>, line: Int) throws(TOMLError) {
        let key = path.first!
        let index = entries.firstIndex { $0.key == key }
        if path.count > 1 {
            guard let index else {
                var table = TOMLTable()
                try table.appendTable(at: path.dropFirst(), line: line)
                entries.append(Entry(key: key, value: .table(table), line: line))
                return
            }
            switch entries[index].value {
            case .table(var table):
                try table.appendTable(at: path.dropFirst(), line: line)
                entries[index].value = .table(table)
            case .array(var tables) where tables.last?.isTable ?? false:
                guard case .table(var last) = tables.removeLast() else { fatalError("checked above") }
                try last.appendTable(at: path.dropFirst(), line: line)
                tables.append(.table(last))
                entries[index].value = .array(tables)
            default:
                throw TOMLError(line: line, reason: "'\(key)' is \(entries[index].value.kindName), not a table")
            }
            return
        }
        guard let index else {
            entries.append(Entry(key: key, value: .array([.table(TOMLTable())]), line: line))
            return
        }
        guard case .array(var tables) = entries[index].value, tables.allSatisfy(\.isTable) else {
            throw TOMLError(line: line, reason: "'\(key)' is \(entries[index].value.kindName) (line \(entries[index].line)), not an array of tables")
        }
        tables.append(.table(TOMLTable()))
        entries[index].value = .array(tables)
    }
}

/// Reads TOML text character by character, counting lines.
private struct TOMLParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var line = 1

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    mutating func document() throws(TOMLError) -> TOMLTable {
        var root = TOMLTable()
        var current: [String] = []
        var headers: [[String]: Int] = [:]
        while true {
            skipBlank()
            skipComment()
            guard let next = peek() else { return root }
            if next == "\n" {
                advance()
                continue
            }
            let startLine = line
            if next == "[" {
                advance()
                let isArray = peek() == "["
                if isArray { advance() }
                skipBlank()
                let path = try key()
                skipBlank()
                try expect("]")
                if isArray { try expect("]") }
                if isArray {
                    try root.appendTable(at: path[...], line: startLine)
                } else {
                    if let first = headers[path] {
                        throw TOMLError(line: startLine, reason: "table [\(path.joined(separator: "."))] is defined twice (first on line \(first))")
                    }
                    headers[path] = startLine
                    try root.insert(.table(TOMLTable()), at: path[...], line: startLine, allowExistingTable: true)
                }
                current = path
            } else {
                let path = try key()
                skipBlank()
                try expect("=")
                skipBlank()
                let value = try value()
                try root.insert(value, at: (current + path)[...], line: startLine)
            }
            try endOfLine()
        }
    }

    // MARK: Keys

    private mutating func key() throws(TOMLError) -> [String] {
        var parts = [try simpleKey()]
        while true {
            skipBlank()
            guard peek() == "." else { return parts }
            advance()
            skipBlank()
            parts.append(try simpleKey())
        }
    }

    private mutating func simpleKey() throws(TOMLError) -> String {
        switch peek() {
        case "\"": return try basicString()
        case "'": return try literalString()
        default:
            var key = ""
            while let c = peek(), ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-" {
                key.unicodeScalars.append(c)
                advance()
            }
            guard !key.isEmpty else { throw fail("expected a key, found \(describePeek())") }
            return key
        }
    }

    // MARK: Values

    private mutating func value() throws(TOMLError) -> TOMLValue {
        guard let c = peek() else { throw fail("expected a value, found the end of the file") }
        switch c {
        case "\"":
            return .string(startsWith("\"\"\"") ? try multilineString(literal: false) : try basicString())
        case "'":
            return .string(startsWith("'''") ? try multilineString(literal: true) : try literalString())
        case "[": return try array()
        case "{": return try inlineTable()
        case "t", "f":
            if startsWith("true") { position += 4; return .boolean(true) }
            if startsWith("false") { position += 5; return .boolean(false) }
            throw fail("expected a value, found \(describePeek())")
        default:
            return try number()
        }
    }

    private mutating func number() throws(TOMLError) -> TOMLValue {
        var text = ""
        while let c = peek(), !" \t\n\r,]}#".unicodeScalars.contains(c) {
            text.unicodeScalars.append(c)
            advance()
        }
        guard !text.isEmpty else { throw fail("expected a value, found \(describePeek())") }
        if text.contains(":") || (text.count >= 10 && text.dropFirst(4).first == "-" && text.first!.isNumber) {
            throw fail("'\(text)': dates and times are not used by any setting")
        }
        let digits = text.replacingOccurrences(of: "_", with: "")
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
            guard let value = Int(digits.dropFirst(2), radix: radix) else { throw fail("'\(text)' is not a number") }
            return .integer(value)
        }
        switch digits {
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if let value = Int(digits) { return .integer(value) }
        if let value = Double(digits), digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .float(value) }
        throw fail("'\(text)' is not a value (strings need quotes)")
    }

    private mutating func array() throws(TOMLError) -> TOMLValue {
        advance()
        var items: [TOMLValue] = []
        while true {
            skipBlankLinesAndComments()
            if peek() == "]" {
                advance()
                return .array(items)
            }
            items.append(try value())
            skipBlankLinesAndComments()
            switch peek() {
            case ",": advance()
            case "]": break
            default: throw fail("expected ',' or ']' in an array, found \(describePeek())")
            }
        }
    }

    private mutating func inlineTable() throws(TOMLError) -> TOMLValue {
        let startLine = line
        advance()
        var table = TOMLTable()
        skipBlank()
        if peek() == "}" {
            advance()
            return .table(table)
        }
        while true {
            skipBlank()
            let path = try key()
            skipBlank()
            try expect("=")
            skipBlank()
            try table.insert(try value(), at: path[...], line: startLine)
            skipBlank()
            switch peek() {
            case ",": advance()
            case "}":
                advance()
                return .table(table)
            default: throw fail("expected ',' or '}' in an inline table, found \(describePeek())")
            }
        }
    }

    // MARK: Strings

    private mutating func basicString() throws(TOMLError) -> String {
        advance()
        var text = ""
        while let c = peek() {
            advance()
            switch c {
            case "\"": return text
            case "\\": text.unicodeScalars.append(try escape())
            case "\n": throw fail("a string ends at the end of its line; close it with \"")
            default: text.unicodeScalars.append(c)
            }
        }
        throw fail("a string is not closed")
    }

    private mutating func literalString() throws(TOMLError) -> String {
        advance()
        var text = ""
        while let c = peek() {
            advance()
            switch c {
            case "'": return text
            case "\n": throw fail("a string ends at the end of its line; close it with '")
            default: text.unicodeScalars.append(c)
            }
        }
        throw fail("a string is not closed")
    }

    private mutating func multilineString(literal: Bool) throws(TOMLError) -> String {
        let delimiter = literal ? "'''" : "\"\"\""
        position += 3
        if peek() == "\n" { advance() } else if startsWith("\r\n") { position += 2; line += 1 }
        var text = ""
        while position < scalars.count {
            if startsWith(delimiter) {
                position += 3
                // Up to two quotes right before the delimiter belong to the string.
                let quote = delimiter.unicodeScalars.first!
                for _ in 0..<2 where peek() == quote {
                    text.unicodeScalars.append(quote)
                    advance()
                }
                return text
            }
            let c = scalars[position]
            advance()
            if !literal, c == "\\" {
                if let next = peek(), next == "\n" || next == " " || next == "\t" || next == "\r" {
                    while let w = peek(), w == "\n" || w == " " || w == "\t" || w == "\r" { advance() }
                } else {
                    text.unicodeScalars.append(try escape())
                }
            } else {
                text.unicodeScalars.append(c)
            }
        }
        throw fail("a multi-line string is not closed with \(delimiter)")
    }

    private mutating func escape() throws(TOMLError) -> Unicode.Scalar {
        guard let c = peek() else { throw fail("a string is not closed") }
        advance()
        switch c {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "e": return "\u{1B}"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let count = c == "u" ? 4 : 8
            var hex = ""
            for _ in 0..<count {
                guard let h = peek(), h.properties.isASCIIHexDigit else { throw fail("\\\(c) needs \(count) hex digits") }
                hex.unicodeScalars.append(h)
                advance()
            }
            guard let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else {
                throw fail("\\\(c)\(hex) is not a Unicode scalar")
            }
            return scalar
        default:
            throw fail("\\\(c) is not an escape TOML knows")
        }
    }

    // MARK: Whitespace and lines

    private mutating func skipBlank() {
        while let c = peek(), c == " " || c == "\t" || c == "\r" { advance() }
    }

    private mutating func skipComment() {
        guard peek() == "#" else { return }
        while let c = peek(), c != "\n" { advance() }
    }

    private mutating func skipBlankLinesAndComments() {
        while true {
            skipBlank()
            skipComment()
            guard peek() == "\n" else { return }
            advance()
        }
    }

    private mutating func endOfLine() throws(TOMLError) {
        skipBlank()
        skipComment()
        guard let c = peek() else { return }
        guard c == "\n" else { throw fail("expected the end of the line, found \(describePeek())") }
        advance()
    }

    private mutating func expect(_ c: Unicode.Scalar) throws(TOMLError) {
        guard peek() == c else { throw fail("expected '\(c)', found \(describePeek())") }
        advance()
    }

    // MARK: Reading

    private func peek() -> Unicode.Scalar? {
        position < scalars.count ? scalars[position] : nil
    }

    private func startsWith(_ text: String) -> Bool {
        var index = position
        for c in text.unicodeScalars {
            guard index < scalars.count, scalars[index] == c else { return false }
            index += 1
        }
        return true
    }

    private mutating func advance() {
        if scalars[position] == "\n" { line += 1 }
        position += 1
    }

    /// What comes next, as a message quotes it: the next word, or the end of the line or file.
    private func describePeek() -> String {
        guard let c = peek() else { return "the end of the file" }
        if c == "\n" { return "the end of the line" }
        var word = ""
        var index = position
        while index < scalars.count, word.unicodeScalars.count < 20, !" \t\r\n".unicodeScalars.contains(scalars[index]) {
            word.unicodeScalars.append(scalars[index])
            index += 1
        }
        return "'\(word)'"
    }

    private func fail(_ reason: String) -> TOMLError {
        TOMLError(line: line, reason: reason)
    }
}
