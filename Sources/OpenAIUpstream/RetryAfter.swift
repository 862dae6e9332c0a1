import Foundation
import NIOHTTP1

/// How long an upstream asked us to wait, read from the headers of an error response.
///
/// In order of precedence: `retry-after-ms` (milliseconds), `retry-after` (seconds, or an
/// HTTP date), and — on a 429 only — the larger of OpenAI's `x-ratelimit-reset-requests`
/// and `x-ratelimit-reset-tokens` (Go durations such as `1s`, `6m0s`, `20ms`, `1h2m3.5s`).
/// Those two are sent on every response; they mean "wait" only when the call was refused
/// for the rate limit.
package enum RetryAfter {
    /// The wait the headers ask for, or `nil` when they ask for none (or say it unreadably).
    /// A date in the past is a wait of zero.
    package static func parse(headers: HTTPHeaders, status: Int, now: Date = Date()) -> Duration? {
        if let value = headers.first(name: "retry-after-ms"), let wait = decimal(value[...], unitNanoseconds: 1_000_000) {
            return wait
        }
        if let value = headers.first(name: "retry-after") {
            if let wait = decimal(value[...], unitNanoseconds: 1_000_000_000) { return wait }
            if let date = httpDate(value) {
                let seconds = date.timeIntervalSince(now)
                return seconds > 0 ? .milliseconds(Int64((seconds * 1000).rounded(.up))) : .zero
            }
        }
        guard status == 429 else { return nil }
        let resets = ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"].compactMap { name in
            headers.first(name: name).flatMap(goDuration)
        }
        return resets.max()
    }

    /// A Go duration (`time.Duration.String()`): `300ms`, `1.5s`, `6m0s`, `1h2m3.5s`, `0`.
    /// Negative durations are `nil`.
    static func goDuration(_ text: String) -> Duration? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text == "0" { return .zero }
        var rest = text[...]
        guard !rest.isEmpty else { return nil }
        var total: Int64 = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            rest = rest.dropFirst(unit.count)
            let nanoseconds: Int64
            switch unit {
            case "ns": nanoseconds = 1
            case "us", "µs", "μs": nanoseconds = 1_000
            case "ms": nanoseconds = 1_000_000
            case "s": nanoseconds = 1_000_000_000
            case "m": nanoseconds = 60_000_000_000
            case "h": nanoseconds = 3_600_000_000_000
            default: return nil
            }
            guard let part = decimalNanoseconds(number, unitNanoseconds: nanoseconds) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(part)
            guard !overflow else { return nil }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// A non-negative decimal number of units (`"2"`, `"1.5"`), as a duration.
    static func decimal(_ text: Substring, unitNanoseconds: Int64) -> Duration? {
        decimalNanoseconds(text.trimmingCharacters(in: .whitespaces)[...], unitNanoseconds: unitNanoseconds)
            .map { .nanoseconds($0) }
    }

    private static func decimalNanoseconds(_ text: Substring, unitNanoseconds: Int64) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        let isDigit = { (c: Character) in c.isASCII && c.isNumber }
        guard whole.count <= 18, whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit),
              !whole.isEmpty || !fraction.isEmpty, parts.count == 1 || !fraction.isEmpty
        else { return nil }
        let (product, overflow) = (Int64(whole) ?? 0).multipliedReportingOverflow(by: unitNanoseconds)
        guard !overflow else { return nil }
        var result = product
        var scale = unitNanoseconds
        for digit in fraction {
            scale /= 10
            guard scale > 0 else { break }
            result += Int64(digit.wholeNumberValue!) * scale
        }
        return result
    }

    private static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// An HTTP date in any of RFC 9110's three formats: `Sun, 06 Nov 1994 08:49:37 GMT`,
    /// `Sunday, 06-Nov-94 08:49:37 GMT` and `Sun Nov  6 08:49:37 1994`.
    static func httpDate(_ text: String) -> Date? {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" })
        var day: Int?
        var month: Int?
        var year: Int?
        var time: (Int, Int, Int)?
        for token in tokens {
            if token.contains(":") {
                let parts = token.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
                guard time == nil, parts.count == 3, let h = parts[0], let m = parts[1], let s = parts[2] else { return nil }
                time = (h, m, s)
            } else if token.allSatisfy({ $0.isASCII && $0.isNumber }) {
                guard let number = Int(token) else { return nil }
                if day == nil, token.count <= 2 {
                    day = number
                } else if year == nil, token.count == 2 || token.count == 4 {
                    year = token.count == 2 ? (number < 70 ? 2000 + number : 1900 + number) : number
                } else {
                    return nil
                }
            } else if token.count == 3, let index = months.firstIndex(of: token.lowercased()) {
                guard month == nil else { return nil }
                month = index + 1
            } else if ["GMT", "UTC", "Z", "+0000"].contains(token.uppercased()) {
                continue
            } else if weekdays.contains(where: { token.lowercased().hasPrefix($0) }), token.allSatisfy(\.isLetter) {
                continue
            } else {
                return nil
            }
        }
        guard let day, let month, let year, let (hour, minute, second) = time,
              (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
