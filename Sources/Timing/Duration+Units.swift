extension Duration {
    /// The duration in seconds, as a `Double` (a `TimeInterval`).
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Whole milliseconds, rounded up (towards positive infinity): the unit Redis counts time
    /// in. A positive duration, however short, is at least 1.
    package var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, rest) = attoseconds.quotientAndRemainder(dividingBy: 1_000_000_000_000_000)
        return seconds * 1_000 + whole + (rest > 0 ? 1 : 0)
    }
}
