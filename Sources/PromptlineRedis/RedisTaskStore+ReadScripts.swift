import RedisClient

/// The read-only scripts: tasks by id, an owner's unfinished count, the counts by status. The
/// keys they read are described in `RedisTaskStore+Scripts.swift`.
extension Scripts {
    /// ARGV: P, ids. Answers, for each readable task, its id and its fields, in the order of
    /// ``RedisTaskStore/StoredTaskReply/Field``.
    static let read: RedisScript = {
        typealias Field = RedisTaskStore.StoredTaskReply.Field
        return script("read", readOnly: true, """
            local now = now_ms()
            local out = {}
            for i = 2, #ARGV do
              local f = redis.call('HMGET', P .. 'task:' .. ARGV[i], \(Field.allCases.map { "'\($0.key)'" }.joined(separator: ", ")))
              local expires = f[\(Field.expiresAt.luaIndex)]
              if f[\(Field.status.luaIndex)] and not (expires and tonumber(expires) <= now) then
                out[#out + 1] = ARGV[i]
                out[#out + 1] = f
              end
            end
            return out
            """)
    }()

    /// ARGV: P, owner. Answers how many of the owner's tasks have not finished.
    static let unfinished = script("unfinished", readOnly: true, """
        return tonumber(redis.call('HGET', P .. 'owners:unfinished', ARGV[2]) or 0)
        """)

    /// ARGV: P. Answers {queued, processing, completed, error, cancelled}.
    static let counts = script("counts", readOnly: true, """
        return {
          redis.call('ZCARD', P .. 'tasks:ready') + redis.call('ZCARD', P .. 'tasks:delayed')
            + redis.call('SCARD', P .. 'tasks:blocked'),
          redis.call('ZCARD', P .. 'tasks:leases'),
          redis.call('ZCARD', P .. 'tasks:finished:c'),
          redis.call('ZCARD', P .. 'tasks:finished:e'),
          redis.call('ZCARD', P .. 'tasks:finished:x')
        }
        """)
}
