import PromptlineCore
import RedisClient

/// Usage counters live beside the tasks, so every instance on this Redis counts against the
/// same limits. A counter is `P usage:<counter>:<window number>`, gone two windows later.
extension RedisTaskStore: UsageMeter {
    package func consume(_ amount: Int, of counter: String, limit: Int, window: Duration) async throws -> UsageDecision {
        let values = try Self.elements(try await run(Scripts.consumeUsage, [
            .string(configuration.keyPrefix), .string(counter), .integer(Int64(amount)), .integer(Int64(limit)),
            .integer(max(1, window.milliseconds)),
        ])).compactMap(\.int64)
        guard values.count == 3 else { throw Self.unreadable("consumeUsage") }
        return UsageDecision(admitted: values[0] == 1, used: Int(values[1]), resetsIn: .milliseconds(values[2]))
    }
}

extension Scripts {
    /// ARGV: P, counter, amount, limit, window (ms). Answers {admitted 1/0, used, ms until
    /// the window ends}. Windows follow Redis's clock, which every instance shares.
    static let consumeUsage = script("consumeUsage", """
        local window = tonumber(ARGV[5])
        local now = now_ms()
        local current = math.floor(now / window)
        local key = P .. 'usage:' .. ARGV[2] .. ':' .. current
        local used = tonumber(redis.call('GET', key) or 0)
        local amount = tonumber(ARGV[3])
        local resets = (current + 1) * window - now
        if used + amount > tonumber(ARGV[4]) then return {0, used, resets} end
        redis.call('INCRBY', key, amount)
        redis.call('PEXPIRE', key, 2 * window)
        return {1, used + amount, resets}
        """)
}
