@testable import PromptlineServer
import Testing

@Suite struct TOMLDocumentTests {
    @Test func readsScalarsWithTheirLines() throws {
        let table = try TOMLTable.parse("""
            # settings
            a = "text with \\"quotes\\" and \\u00e9"
            b = 'literal \\n'
            c = 1_000
            d = -0.5e1
            e = true
            "quoted key" = 0x1F
            """)
        #expect(table["a"] == .init(key: "a", value: .string("text with \"quotes\" and é"), line: 2))
        #expect(table["b"]?.value == .string("literal \\n"))
        #expect(table["c"]?.value == .integer(1_000))
        #expect(table["d"]?.value == .float(-5))
        #expect(table["e"]?.value == .boolean(true))
        #expect(table["quoted key"] == .init(key: "quoted key", value: .integer(31), line: 7))
    }

    @Test func readsArraysTablesAndArraysOfTables() throws {
        let table = try TOMLTable.parse("""
            models = [
              "gpt-4o",   # first
              "gpt-4o-mini",
            ]

            [[upstreams]]
            name = "a"
            limits = { rpm = 60, tpm = 1000 }

            [[upstreams]]
            name = "b"
            [upstreams.extra]
            x.y = 1
            """)
        #expect(table["models"]?.value == .array([.string("gpt-4o"), .string("gpt-4o-mini")]))
        guard case .array(let upstreams)? = table["upstreams"]?.value, upstreams.count == 2,
              case .table(let first) = upstreams[0], case .table(let second) = upstreams[1] else {
            Issue.record("upstreams is not an array of two tables: \(String(describing: table["upstreams"]))")
            return
        }
        #expect(first["name"] == .init(key: "name", value: .string("a"), line: 7))
        guard case .table(let limits)? = first["limits"]?.value else {
            Issue.record("limits is not a table")
            return
        }
        #expect(limits["rpm"]?.value == .integer(60))
        #expect(second["name"]?.line == 11)
        guard case .table(let extra)? = second["extra"]?.value, case .table(let x)? = extra["x"]?.value else {
            Issue.record("upstreams[1].extra.x is not a table")
            return
        }
        #expect(x["y"]?.value == .integer(1))
    }

    @Test func multilineStrings() throws {
        let table = try TOMLTable.parse("a = \"\"\"\nline one\nline \\\n   two\"\"\"\nb = '''\nraw \\n'''\nc = 2\n")
        #expect(table["a"]?.value == .string("line one\nline two"))
        #expect(table["b"]?.value == .string("raw \\n"))
        #expect(table["c"]?.line == 7)
    }

    @Test(arguments: [
        ("a = 1\na = 2", TOMLError(line: 2, reason: "'a' is defined twice (first on line 1)")),
        ("a = \"open", TOMLError(line: 1, reason: "a string is not closed")),
        ("a = 1 b = 2", TOMLError(line: 1, reason: "expected the end of the line, found 'b'")),
        ("a = word", TOMLError(line: 1, reason: "'word' is not a value (strings need quotes)")),
        ("[t]\nx = 1\n[t]", TOMLError(line: 3, reason: "table [t] is defined twice (first on line 1)")),
        ("d = 2024-01-01", TOMLError(line: 1, reason: "'2024-01-01': dates and times are not used by any setting")),
        ("a = [1, 2", TOMLError(line: 1, reason: "expected ',' or ']' in an array, found the end of the file")),
        ("a = 1\n[a]", TOMLError(line: 2, reason: "'a' is an integer (line 1), not a table")),
    ])
    func refusesWhatIsNotTOML(text: String, error: TOMLError) {
        #expect(throws: error) { try TOMLTable.parse(text) }
    }
}
