import RedisClient

/// The scripts of flows (``FlowStore``); their keys are described with the others in
/// `RedisTaskStore+Scripts.swift`, and finishing a child is the shared `finish` helper there.
extension Scripts {
    /// ARGV: P, idempotency key or "", its lifetime (ms), failure policy, maxParallel or "",
    /// then the parent's and each child's 10 fields, as for ``enqueue``. Answers as ``enqueue``.
    static let enqueueFlow = script("enqueue_flow", """
        local idem = ARGV[2]
        local existing = remembered(idem)
        if existing then return {0, existing} end
        local n = (#ARGV - 5) / FIELDS
        local now = now_ms()
        local first = reserve(n)
        local parent, key, rank = add_task(6, first, now)
        redis.call('HSET', P .. 'flow:' .. parent, 'pol', ARGV[4])
        if ARGV[5] ~= '' then redis.call('HSET', P .. 'flow:' .. parent, 'max', ARGV[5]) end
        if n == 1 then
          redis.call('ZADD', P .. 'tasks:ready', 0, rank .. parent)
        else
          block(parent, key)
        end
        local ids = add_children(parent, 6 + FIELDS, n - 1, ARGV[5] ~= '' and tonumber(ARGV[5]), first + 1, now)
        if idem ~= '' then
          table.insert(ids, 1, parent)
          redis.call('SET', P .. 'idempotency:' .. idem, table.concat(ids, ','), 'PX', ARGV[3])
        end
        redis.call('PUBLISH', P .. 'tasks:wake', 'enqueued')
        return {1}
        """)

    /// ARGV: P, id, token, maxParallel or "", then each child's 10 fields, as for ``enqueue``.
    /// Answers 1, or 0 when the lease was no longer current.
    static let addChildren = script("add_children", """
        local id = ARGV[2]
        local key = P .. 'task:' .. id
        if not held(key, ARGV[3]) then return 0 end
        local n = (#ARGV - 4) / FIELDS
        local now = now_ms()
        local flow = P .. 'flow:' .. id
        -- Back to waiting without counting the attempt, as `release` does.
        redis.call('HSET', key, 'st', 'queued', 'prog', 0, 'att', tonumber(redis.call('HGET', key, 'att')) - 1)
        redis.call('ZREM', P .. 'tasks:leases', id)
        if redis.call('EXISTS', flow) == 0 then
          -- A task that becomes a parent here takes the policy of the flow it belongs to.
          local parent = redis.call('HGET', key, 'par')
          local policy = parent and redis.call('HGET', P .. 'flow:' .. parent, 'pol') or 'fail'
          redis.call('HSET', flow, 'pol', policy)
        end
        if ARGV[4] ~= '' then redis.call('HSET', flow, 'max', ARGV[4]) else redis.call('HDEL', flow, 'max') end
        if n == 0 then
          redis.call('ZADD', P .. 'tasks:ready', 0, redis.call('HGET', key, 'rk') .. id)
        else
          block(id, key)
          local first = reserve(n)
          add_children(id, 5, n, ARGV[4] ~= '' and tonumber(ARGV[4]), first, now)
        end
        redis.call('PUBLISH', P .. 'tasks:wake', 'enqueued')
        return 1
        """)

    /// ARGV: P, parent id. Answers {policy, pending, {child ids}, {failed id, cause, …}}, or
    /// false when the task is no parent, unknown or expired. Failed children are listed under
    /// policy `continue` only.
    static let flow = script("flow", readOnly: true, """
        local id = ARGV[2]
        local f = redis.call('HMGET', P .. 'task:' .. id, 'st', 'exp')
        if not f[1] or (f[2] and tonumber(f[2]) <= now_ms()) then return false end
        local flow = P .. 'flow:' .. id
        local policy = redis.call('HGET', flow, 'pol')
        if not policy then return false end
        local children = redis.call('LRANGE', flow .. ':children', 0, -1)
        local failed = {}
        if policy == 'continue' then
          for _, child in ipairs(children) do
            local c = redis.call('HMGET', P .. 'task:' .. child, 'st', 'err')
            if c[1] == 'error' then
              failed[#failed + 1] = child
              failed[#failed + 1] = c[2] or 'failed'
            elseif c[1] == 'cancelled' then
              failed[#failed + 1] = child
              failed[#failed + 1] = 'cancelled'
            end
          end
        end
        return {policy, redis.call('SCARD', flow .. ':open'), children, failed}
        """)
}
