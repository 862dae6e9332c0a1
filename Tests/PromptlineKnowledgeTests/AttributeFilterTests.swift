import Foundation
import PromptlineKnowledge
import Testing

@Suite struct AttributeFilterTests {
    static let file: [String: AttributeValue] = [
        "team": .string("docs"), "year": .number(2024), "public": .bool(true),
    ]

    static func filter(_ json: String) throws -> AttributeFilter {
        try JSONDecoder().decode(AttributeFilter.self, from: Data(json.utf8))
    }

    @Test(arguments: [
        (#"{"type":"eq","key":"team","value":"docs"}"#, true),
        (#"{"type":"eq","key":"team","value":"sales"}"#, false),
        (#"{"type":"ne","key":"team","value":"sales"}"#, true),
        (#"{"type":"gt","key":"year","value":2023}"#, true),
        (#"{"type":"gte","key":"year","value":2024}"#, true),
        (#"{"type":"lt","key":"year","value":2024}"#, false),
        (#"{"type":"lte","key":"year","value":2024}"#, true),
        (#"{"type":"in","key":"team","value":["sales","docs"]}"#, true),
        (#"{"type":"nin","key":"team","value":["sales","docs"]}"#, false),
        (#"{"type":"eq","key":"public","value":true}"#, true),
        // Values of another kind are neither equal nor ordered.
        (#"{"type":"eq","key":"year","value":"2024"}"#, false),
        (#"{"type":"gt","key":"team","value":1}"#, false),
        // A missing key passes ne and nin only.
        (#"{"type":"eq","key":"missing","value":"x"}"#, false),
        (#"{"type":"ne","key":"missing","value":"x"}"#, true),
        (#"{"type":"nin","key":"missing","value":["x"]}"#, true),
        (#"{"type":"and","filters":[{"type":"eq","key":"team","value":"docs"},{"type":"lt","key":"year","value":2020}]}"#, false),
        (#"{"type":"or","filters":[{"type":"eq","key":"team","value":"sales"},{"type":"gte","key":"year","value":2020}]}"#, true),
        (#"{"type":"and","filters":[{"type":"or","filters":[{"type":"eq","key":"public","value":false},{"type":"eq","key":"team","value":"docs"}]},{"type":"in","key":"year","value":[2024,2025]}]}"#, true),
    ])
    func matches(_ json: String, _ expected: Bool) throws {
        #expect(try Self.filter(json).matches(Self.file) == expected, "\(json)")
    }

    @Test(arguments: [
        #"{"type":"like","key":"team","value":"docs"}"#,
        #"{"type":"in","key":"team","value":"docs"}"#,
        #"{"type":"eq","value":"docs"}"#,
        #"{"type":"and"}"#,
        #"{"type":"eq","key":"team","value":{"a":1}}"#,
    ])
    func badFiltersAreRefused(_ json: String) {
        #expect(throws: DecodingError.self) { try Self.filter(json) }
    }
}
