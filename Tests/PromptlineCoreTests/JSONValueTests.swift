import Foundation
import PromptlineCore
import Testing

@Suite struct JSONValueTests {
    @Test func readsEveryKindOfValue() throws {
        let value = try JSONValue.parse(#" {"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d"}, "e": {}, "f": []} "#)
        #expect(value == .object([
            "a": .array([.number(1), .number(-2.5), .number(300), .bool(true), .bool(false), .null]),
            "b": .object(["c": .string("d")]),
            "e": .object([:]),
            "f": .array([]),
        ]))
    }

    @Test(arguments: [
        (#""plain""#, "plain"),
        (#""quote \" backslash \\ slash \/""#, "quote \" backslash \\ slash /"),
        (#""\b\f\n\r\t""#, "\u{8}\u{C}\n\r\t"),
        (#""\u00e9 \u20AC""#, "é €"),
        (#""\ud83d\ude00 emoji""#, "😀 emoji"),
        (#""raw é 😀 日本""#, "raw é 😀 日本"),
        (#""nul \u0000 inside""#, "nul \u{0} inside"),
    ])
    func decodesStrings(json: String, expected: String) throws {
        #expect(try JSONValue.parse(json) == .string(expected))
    }

    @Test(arguments: [
        "", "{", "[1,", #"{"a" 1}"#, #"{"a": 1,}"#, "[1 2]", "tru", "nul", #""open"#, #""\x""#, #""\ud83d alone""#,
        #""\ude00""#, "+1", ".5", "1 2", "{} []", "\"tab\there\"", "--1",
    ])
    func refusesMalformedDocuments(json: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(json) }
    }

    @Test func agreesWithJSONSerializationOnAChunk() throws {
        let chunk = #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" w\u00f6rld \"q\""},"finish_reason":null}]}"#
        let value = try JSONValue.parse(chunk)
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(chunk.utf8)) as? [String: Any])
        let choices = try #require(reference["choices"] as? [[String: Any]])
        let delta = try #require(choices.first?["delta"] as? [String: Any])
        #expect(value["choices"]?.array?.first?["delta"]?["content"]?.string == delta["content"] as? String)
        #expect(value["model"]?.string == "m")
        #expect(value["choices"]?.array?.first?["finish_reason"] == .null)
        #expect(value["created"]?.int == 1)
    }

    @Test(arguments: [
        ("0", 0.0), ("-7", -7.0), ("123456789012345", 123_456_789_012_345.0), ("1234567890123456789", 1_234_567_890_123_456_789.0),
        ("2.5", 2.5), ("-0.125", -0.125), ("3e2", 300.0), ("1E-2", 0.01), ("12.0", 12.0), ("9007199254740993", 9_007_199_254_740_993.0),
    ])
    func readsNumbersShortAndLong(json: String, expected: Double) throws {
        #expect(try JSONValue.parse(json) == .number(expected))
        #expect(try JSONValue.parse("[\(json)]") == .array([.number(expected)]))
    }

    @Test func minusZeroKeepsItsSign() throws {
        let value = try #require(try JSONValue.parse("-0").double)
        #expect(value == 0 && value.sign == .minus)
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }
}

@Suite struct JSONValueCodableTests {
    @Test func roundTripsThroughCodableWithWholeNumbersWhole() throws {
        let text = #"{"a":[1,-2.5,300,true,false,null],"b":{"c":"d é \n"},"e":{},"f":[],"g":16}"#
        let value = try JSONValue.parse(text)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let encoded = String(decoding: try encoder.encode(value), as: UTF8.self)
        #expect(encoded.contains(#""g":16"#) && encoded.contains("300"))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(encoded.utf8)) == value)
    }
}

@Suite struct JSONValueCanonicalTextTests {
    @Test func keyOrderDoesNotMatterAndValuesDo() throws {
        let a = try JSONValue.parse(#"{"b": [1, 2.5, "x\"y\\z\n"], "a": {"d": null, "c": true}}"#)
        let b = try JSONValue.parse(#"{"a": {"c": true, "d": null}, "b": [1.0, 2.5, "x\"y\\z\n"]}"#)
        #expect(a.canonicalText == b.canonicalText)
        #expect(a.canonicalText == #"{"a":{"c":true,"d":null},"b":[1,2.5,"x\"y\\z\u000a"]}"#)
        let c = try JSONValue.parse(#"{"a": {"c": true, "d": null}, "b": [1, 2.5, "x\"y\\z\n "]}"#)
        #expect(a.canonicalText != c.canonicalText)
        // A string that looks like the text of another value stays a string.
        #expect(JSONValue.array([.string("1,2")]).canonicalText != JSONValue.array([.number(1), .number(2)]).canonicalText)
    }

    @Test func bytesAreTheTextAndParseBackToTheValue() throws {
        let value = JSONValue.object([
            "text": .string("tab\t nul\u{0} unit\u{1F} é 😀 \"q\" \\ /"),
            "numbers": .array([.number(16), .number(-2.5), .number(1e300), .number(0.1)]),
            "nested": .object(["z": .null, "a": .bool(false)]),
        ])
        #expect(value.canonicalText == String(decoding: value.canonicalBytes, as: UTF8.self))
        #expect(value.canonicalText.contains(#""tab\u0009 nul\u0000 unit\u001f é 😀 \"q\" \\ /""#))
        #expect(try JSONValue.parse(value.canonicalText) == value)
        let reference = try JSONSerialization.jsonObject(with: Data(value.canonicalBytes)) as? [String: Any]
        #expect(reference?["text"] as? String == "tab\t nul\u{0} unit\u{1F} é 😀 \"q\" \\ /")
    }

    @Test func numbersJSONCannotHoldAreWrittenAsNull() {
        #expect(JSONValue.array([.number(.nan), .number(.infinity), .number(-.infinity)]).canonicalText == "[null,null,null]")
    }
}
