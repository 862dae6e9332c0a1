/// A token bucket: `rate` tokens a second, holding at most one second's worth.
struct TokenBucket: Sendable {
    let rate: Double
    private var tokens: Double
    private var updatedAt: UInt64

    init(ratePerSecond: Int, now: UInt64) {
        rate = Double(ratePerSecond)
        tokens = rate
        updatedAt = now
    }

    /// Takes one token at `now` (monotonic nanoseconds). Returns `nil` when one was taken, or else
    /// the milliseconds until one will be there.
    mutating func take(now: UInt64) -> Int? {
        if now > updatedAt {
            tokens = min(rate, tokens + Double(now - updatedAt) / 1e9 * rate)
            updatedAt = now
        }
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return max(1, Int(((1 - tokens) / rate * 1000).rounded(.up)))
    }
}
