/// Texts made from a seed, the same for the same seed: words of Latin letters and Hangul,
/// sentence ends, line and paragraph breaks, page breaks, and now and then a very long word.
enum GeneratedText {
    static func make(seed: UInt64, words: Int) -> String {
        var random = SplitMix64(state: seed)
        let latin = Array("abcdefghijklmnopqrstuvwxyzé")
        let hangul = Array("요약문서한국어데이터")
        var text = ""
        for _ in 0..<words {
            let roll = random.next(below: 100)
            let length = roll == 0 ? 30 + random.next(below: 200) : 1 + random.next(below: 9)
            let letters = random.next(below: 3) == 0 ? hangul : latin
            for _ in 0..<length { text.append(letters[random.next(below: letters.count)]) }
            switch random.next(below: 40) {
            case 0: text += ".\n\n"
            case 1: text += ".\u{0C}"
            case 2: text += "\n"
            case 3...6: text += ". "
            case 7: text += "? "
            case 8: text += "。"
            default: text += " "
            }
        }
        return text
    }

    /// A small, fast, deterministic generator (Steele, Lea and Flood's SplitMix64).
    private struct SplitMix64 {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }
}
