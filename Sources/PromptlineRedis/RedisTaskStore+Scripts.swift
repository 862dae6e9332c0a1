import RedisClient

/// The store's state changes, each one atomic Lua script.
///
/// Keys, under the configured prefix `P`:
/// - `P task:<id>`: a hash per task (fields below).
/// - `P tasks:ready`: the queue, a sorted set with every score 0, so that members sort by
///   their bytes: `rank` then id, where rank is 16 hex digits of the inverted priority and
///   15 decimal digits of the enqueue sequence — highest priority first, oldest first.
/// - `P tasks:delayed`: tasks waiting out a retry delay, scored by when they may run.
/// - `P tasks:leases`: tasks in flight, scored by when their lease runs out.
/// - `P tasks:finished:c`, `…:e`, `…:x`: completed, failed and cancelled tasks, scored by
///   when they expire; their sizes are the counts of finished tasks.
/// - `P tasks:seq`: the enqueue sequence. `P idempotency:<key>`: the ids a key stored.
/// - `P tasks:wake`: the pub/sub channel that wakes idle workers on every instance.
/// - `P doc:<collection>:<id>`: a hash per document (``DocumentStore``): `b` body, `v`
///   version, `c` created (ms); Redis expires it (`PEXPIRE`) when the document expires.
///   Collection names hold no `:`, so no two documents share a key.
/// - `P docs:<collection>`: the collection's ids, scored by when each was created (ms);
///   equal times sort by id. An id whose hash has expired stays until a listing passes it,
///   or an insert finds it among the oldest, and drops it.
///
/// Task hash fields: `st` status, `rk` rank, `pr` priority, `model`, `mt` max tokens,
/// `temp`, `p` the prompt (a single user message) or `msgs` (JSON messages), `meta`
/// (JSON), `att` deliveries, `tok` fencing token, `q`/`s`/`f` queued, started and
/// finished times (ms), `prog`, `res`, `err`, `pt`/`ct`/`tt` token usage, `by` the model
/// that answered, `exp` when a finished task expires (ms), `own` the API key that submitted it.
/// `P owners:unfinished` is a hash from owner to how many of its tasks have not finished:
/// enqueue adds, every move to a finished state (`finish`) takes one away.
///
/// Flows (``PromptlineCore/FlowStore``): a child's hash names its parent in `par`. A task
/// that is `queued` but not in the queue — a parent waiting for its children, a child held
/// back by `maxParallel` — has `blk` 1 and is a member of the set `P tasks:blocked` (counted
/// as queued). Per parent:
/// - `P flow:<id>`: a hash, `pol` the failure policy (`fail` | `continue`), `max` the
///   current level's `maxParallel` (absent: no limit).
/// - `P flow:<id>:children`: a list of every child, all levels, in the order added.
/// - `P flow:<id>:open`: a set of the children that have not finished (its size is pending).
/// - `P flow:<id>:held`: a list of the children held back, released from the front as
///   siblings finish (running = open − held, kept at most `max`).
/// `finish` updates the parent of every task that finishes, in the same script. A task
/// finishing while its parent has not has no expiry (`exp` absent, scored `+inf` in its
/// finished set, its hash persisted); when the parent finishes, every descendant takes the
/// parent's expiry (`settle`), so a parent always reads its children's results.
///
/// Every script reads the time from Redis (`TIME`), so instances whose clocks disagree
/// still agree on leases and expiry. Writing scripts carry the `#!lua` shebang: Redis then
/// refuses them up front when it is out of memory, which keeps a batch all or nothing.
/// Scripts build key names from the prefix, so the store does not run on Redis Cluster.
enum Scripts {
    private static let header = """
        local P = ARGV[1]
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local function held(key, token)
          local f = redis.call('HMGET', key, 'st', 'tok')
          return f[1] == 'processing' and f[2] == token
        end
        -- Hashes outlive their expiry by an hour, as a backstop should no instance purge.
        local BACKSTOP = 3600000
        local KIND = {completed = 'c', error = 'e', cancelled = 'x'}
        local FIELDS = 10
        local function unown(key)
          local owner = redis.call('HGET', key, 'own')
          if owner then redis.call('HINCRBY', P .. 'owners:unfinished', owner, -1) end
        end
        local function block(id, key)
          redis.call('HSET', key, 'blk', 1)
          redis.call('SADD', P .. 'tasks:blocked', id)
        end
        local function unblock(id, key)
          redis.call('HDEL', key, 'blk')
          redis.call('SREM', P .. 'tasks:blocked', id)
          redis.call('ZADD', P .. 'tasks:ready', 0, redis.call('HGET', key, 'rk') .. id)
        end
        -- The ids an idempotency key ('' for none) stored, or false.
        local function remembered(idem)
          if idem == '' then return false end
          return redis.call('GET', P .. 'idempotency:' .. idem)
        end
        -- Takes n numbers of the enqueue sequence; answers the first.
        local function reserve(n)
          return redis.call('INCRBY', P .. 'tasks:seq', n) - n + 1
        end
        -- Stores the queued task whose FIELDS values start at ARGV[b] (see `enqueue`), with
        -- sequence number seq. Answers its id, key and rank.
        local function add_task(b, seq, now)
          local id = ARGV[b]
          local rank = ARGV[b + 1] .. string.format('%015d', seq)
          local key = P .. 'task:' .. id
          redis.call('HSET', key, 'st', 'queued', 'rk', rank, 'pr', ARGV[b + 2], 'model', ARGV[b + 3],
            'mt', ARGV[b + 4], 'temp', ARGV[b + 5], 'att', 0, 'tok', 0, 'q', now, 'prog', 0)
          if ARGV[b + 7] ~= '' then
            redis.call('HSET', key, 'msgs', ARGV[b + 7])
          else
            redis.call('HSET', key, 'p', ARGV[b + 6])
          end
          if ARGV[b + 8] ~= '' then redis.call('HSET', key, 'meta', ARGV[b + 8]) end
          if ARGV[b + 9] ~= '' then
            redis.call('HSET', key, 'own', ARGV[b + 9])
            redis.call('HINCRBY', P .. 'owners:unfinished', ARGV[b + 9], 1)
          end
          return id, key, rank
        end
        -- Stores the children whose fields start at ARGV[b], in order, for parent; those past
        -- the first `max` (a number, or false) are held back. Answers their ids.
        local function add_children(parent, b, count, max, seq, now)
          local flow = P .. 'flow:' .. parent
          local ids = {}
          for i = 1, count do
            local id, key, rank = add_task(b + (i - 1) * FIELDS, seq + i - 1, now)
            redis.call('HSET', key, 'par', parent)
            redis.call('RPUSH', flow .. ':children', id)
            redis.call('SADD', flow .. ':open', id)
            if max and i > max then
              block(id, key)
              redis.call('RPUSH', flow .. ':held', id)
            else
              redis.call('ZADD', P .. 'tasks:ready', 0, rank .. id)
            end
            ids[#ids + 1] = id
          end
          return ids
        end
        -- A finished task's expiry: `at` (ms), or false for none while its parent waits.
        local function expire_at(id, key, kind, at)
          if at then
            redis.call('HSET', key, 'exp', at)
            redis.call('ZADD', P .. 'tasks:finished:' .. kind, at, id)
            redis.call('PEXPIREAT', key, at + BACKSTOP)
          else
            redis.call('HDEL', key, 'exp')
            redis.call('ZADD', P .. 'tasks:finished:' .. kind, '+inf', id)
            redis.call('PERSIST', key)
          end
        end
        -- Every descendant of a finished parent expires when it does (`at`, or false).
        local function settle(parent, at)
          local flow = P .. 'flow:' .. parent
          for _, key in ipairs({flow, flow .. ':children'}) do
            if at then redis.call('PEXPIREAT', key, at + BACKSTOP) else redis.call('PERSIST', key) end
          end
          for _, id in ipairs(redis.call('LRANGE', flow .. ':children', 0, -1)) do
            local key = P .. 'task:' .. id
            local kind = KIND[redis.call('HGET', key, 'st')]
            if kind then expire_at(id, key, kind, at) end
            if redis.call('EXISTS', P .. 'flow:' .. id) == 1 then settle(id, at) end
          end
        end
        -- Cancels the unfinished children of a parent that has just finished, and theirs. Their
        -- parent has finished, so they tell it nothing; `settle` gives them their expiry. The
        -- new token fences out any worker holding one of them.
        local function cancel_children(parent, now)
          local flow = P .. 'flow:' .. parent
          for _, id in ipairs(redis.call('SMEMBERS', flow .. ':open')) do
            local key = P .. 'task:' .. id
            local f = redis.call('HMGET', key, 'st', 'rk', 'tok')
            if f[1] == 'queued' or f[1] == 'processing' then
              redis.call('HSET', key, 'st', 'cancelled', 'f', now, 'tok', tonumber(f[3]) + 1)
              redis.call('HDEL', key, 'blk')
              redis.call('SREM', P .. 'tasks:blocked', id)
              redis.call('ZREM', P .. 'tasks:ready', f[2] .. id)
              redis.call('ZREM', P .. 'tasks:delayed', id)
              redis.call('ZREM', P .. 'tasks:leases', id)
              unown(key)
              if redis.call('EXISTS', P .. 'flow:' .. id) == 1 then cancel_children(id, now) end
            end
          end
          redis.call('DEL', flow .. ':open', flow .. ':held')
        end
        local child_finished
        -- Every move of a task to a finished state: counts, leases, expiry, and its flow.
        -- `ttl` is the lifetime of this kind; `cause` why it did not complete.
        local function finish(id, key, kind, now, ttl, cause)
          unown(key)
          redis.call('ZREM', P .. 'tasks:leases', id)
          redis.call('SREM', P .. 'tasks:blocked', id)
          redis.call('HDEL', key, 'blk')
          local parent = redis.call('HGET', key, 'par')
          local at = now + ttl
          if parent then
            local st = redis.call('HGET', P .. 'task:' .. parent, 'st')
            if st == 'queued' or st == 'processing' then at = false end
          end
          expire_at(id, key, kind, at)
          if redis.call('EXISTS', P .. 'flow:' .. id) == 1 then
            cancel_children(id, now)
            settle(id, at)
          end
          if parent then child_finished(parent, id, kind, cause, now, ttl) end
        end
        -- A child of `parent` has finished. A waiting parent fails (policy `fail`, the child
        -- did not complete), or becomes claimable, or lets held children go.
        child_finished = function(parent, id, kind, cause, now, ttl)
          local flow = P .. 'flow:' .. parent
          redis.call('SREM', flow .. ':open', id)
          redis.call('LREM', flow .. ':held', 1, id)
          local key = P .. 'task:' .. parent
          local f = redis.call('HMGET', key, 'st', 'blk')
          -- Not waiting: it has finished, and this child was part of its end.
          if f[1] ~= 'queued' or not f[2] then return end
          local policy = redis.call('HMGET', flow, 'pol', 'max')
          if kind ~= 'c' and policy[1] == 'fail' then
            local message = 'child ' .. id .. ' failed: ' .. cause
            redis.call('HSET', key, 'st', 'error', 'err', message, 'f', now)
            finish(parent, key, 'e', now, ttl, message)
            return
          end
          if redis.call('SCARD', flow .. ':open') == 0 then
            unblock(parent, key)
            redis.call('PUBLISH', P .. 'tasks:wake', 'flow')
            return
          end
          if policy[2] then
            local running = redis.call('SCARD', flow .. ':open') - redis.call('LLEN', flow .. ':held')
            local released = 0
            while running < tonumber(policy[2]) do
              local waiting = redis.call('LPOP', flow .. ':held')
              if not waiting then break end
              unblock(waiting, P .. 'task:' .. waiting)
              running = running + 1
              released = released + 1
            end
            if released > 0 then redis.call('PUBLISH', P .. 'tasks:wake', 'flow') end
          end
        end

        """

    static func script(_ name: String, readOnly: Bool = false, _ body: String) -> RedisScript {
        RedisScript(name: name, source: (readOnly ? "#!lua flags=no-writes\n" : "#!lua\n") + header + body)
    }

    /// ARGV: P, idempotency key or "", its lifetime (ms), then 10 fields per task: id, rank
    /// prefix, priority, model, max tokens, temperature, prompt, messages ("" for a single
    /// user prompt), metadata, owner ("" for none).
    /// Answers `{1}` when stored, `{0, "id,id,…"}` for a key seen before.
    static let enqueue = script("enqueue", """
        local idem = ARGV[2]
        local existing = remembered(idem)
        if existing then return {0, existing} end
        local n = (#ARGV - 3) / FIELDS
        local now = now_ms()
        local first = reserve(n)
        local ready = P .. 'tasks:ready'
        local ids = {}
        for i = 0, n - 1 do
          local id, _, rank = add_task(4 + i * FIELDS, first + i, now)
          redis.call('ZADD', ready, 0, rank .. id)
          if idem ~= '' then ids[#ids + 1] = id end
        end
        if idem ~= '' then
          redis.call('SET', P .. 'idempotency:' .. idem, table.concat(ids, ','), 'PX', ARGV[3])
        end
        redis.call('PUBLISH', P .. 'tasks:wake', 'enqueued')
        return {1}
        """)

    /// ARGV: P, limit, lease (ms). Moves due retries to the queue, then takes up to `limit`
    /// tasks. Answers 8 values per task (``RedisTaskStore/ClaimedTaskReply/Field``): id, token,
    /// attempt, model, max tokens, temperature, prompt, messages (false when absent).
    static let claim = script("claim", """
        local now = now_ms()
        local ready = P .. 'tasks:ready'
        local delayed = P .. 'tasks:delayed'
        local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)
        for _, id in ipairs(due) do
          local rank = redis.call('HGET', P .. 'task:' .. id, 'rk')
          if rank then redis.call('ZADD', ready, 0, rank .. id) end
          redis.call('ZREM', delayed, id)
        end
        local popped = redis.call('ZPOPMIN', ready, tonumber(ARGV[2]))
        local deadline = now + tonumber(ARGV[3])
        local out = {}
        local leases = {}
        for i = 1, #popped, 2 do
          local id = string.sub(popped[i], 32)
          local key = P .. 'task:' .. id
          local f = redis.call('HMGET', key, 'st', 'model', 'mt', 'temp', 'p', 'msgs', 's', 'tok', 'att')
          if f[1] == 'queued' then
            local token = tonumber(f[8]) + 1
            local attempt = tonumber(f[9]) + 1
            if f[7] then
              redis.call('HSET', key, 'st', 'processing', 'prog', 0, 'tok', token, 'att', attempt)
            else
              redis.call('HSET', key, 'st', 'processing', 'prog', 0, 'tok', token, 'att', attempt, 's', now)
            end
            leases[#leases + 1] = deadline
            leases[#leases + 1] = id
            out[#out + 1] = id
            out[#out + 1] = token
            out[#out + 1] = attempt
            out[#out + 1] = f[2]
            out[#out + 1] = f[3]
            out[#out + 1] = f[4]
            out[#out + 1] = f[5]
            out[#out + 1] = f[6]
          end
        end
        if #leases > 0 then redis.call('ZADD', P .. 'tasks:leases', unpack(leases)) end
        return out
        """)

    /// ARGV: P, lease (ms), then id and token pairs. Answers the ids still held.
    static let renew = script("renew", """
        local deadline = now_ms() + tonumber(ARGV[2])
        local out = {}
        for i = 3, #ARGV, 2 do
          if held(P .. 'task:' .. ARGV[i], ARGV[i + 1]) then
            redis.call('ZADD', P .. 'tasks:leases', 'XX', deadline, ARGV[i])
            out[#out + 1] = ARGV[i]
          end
        end
        return out
        """)

    /// ARGV: P, id, token, percent.
    static let progress = script("progress", """
        local key = P .. 'task:' .. ARGV[2]
        if not held(key, ARGV[3]) then return 0 end
        redis.call('HSET', key, 'prog', ARGV[4])
        return 1
        """)

    /// ARGV: P, lifetime (ms), then 7 values per task: id, token, content,
    /// prompt/completion/total tokens or "", answering model or "". Answers 1 or 0 per task
    /// (0: the lease was no longer current).
    static let complete = script("complete", """
        local now = now_ms()
        local ttl = tonumber(ARGV[2])
        local out = {}
        for b = 3, #ARGV, 7 do
          local id = ARGV[b]
          local key = P .. 'task:' .. id
          local f = redis.call('HMGET', key, 'st', 'tok', 'err')
          if f[1] ~= 'processing' or f[2] ~= ARGV[b + 1] then
            out[#out + 1] = 0
          else
            local fields = {'st', 'completed', 'res', ARGV[b + 2], 'prog', 100, 'f', now}
            if ARGV[b + 3] ~= '' then
              fields[#fields + 1] = 'pt'; fields[#fields + 1] = ARGV[b + 3]
              fields[#fields + 1] = 'ct'; fields[#fields + 1] = ARGV[b + 4]
              fields[#fields + 1] = 'tt'; fields[#fields + 1] = ARGV[b + 5]
            end
            if ARGV[b + 6] ~= '' then fields[#fields + 1] = 'by'; fields[#fields + 1] = ARGV[b + 6] end
            redis.call('HSET', key, unpack(fields))
            if f[3] then redis.call('HDEL', key, 'err') end
            finish(id, key, 'c', now, ttl, '')
            out[#out + 1] = 1
          end
        end
        return out
        """)

    /// ARGV: P, id, token, lifetime (ms), cause.
    static let fail = script("fail", """
        local id = ARGV[2]
        local key = P .. 'task:' .. id
        if not held(key, ARGV[3]) then return 0 end
        local now = now_ms()
        local ttl = tonumber(ARGV[4])
        redis.call('HSET', key, 'st', 'error', 'err', ARGV[5], 'f', now)
        finish(id, key, 'e', now, ttl, ARGV[5])
        return 1
        """)

    /// ARGV: P, id, token, delay (ms), cause.
    static let retry = script("retry", """
        local id = ARGV[2]
        local key = P .. 'task:' .. id
        if not held(key, ARGV[3]) then return 0 end
        local delay = tonumber(ARGV[4])
        redis.call('HSET', key, 'st', 'queued', 'err', ARGV[5], 'prog', 0)
        redis.call('ZREM', P .. 'tasks:leases', id)
        if delay > 0 then
          redis.call('ZADD', P .. 'tasks:delayed', now_ms() + delay, id)
        else
          redis.call('ZADD', P .. 'tasks:ready', 0, redis.call('HGET', key, 'rk') .. id)
          redis.call('PUBLISH', P .. 'tasks:wake', 'retried')
        end
        return 1
        """)

    /// ARGV: P, then id and token pairs. Answers how many were handed back.
    static let release = script("release", """
        local count = 0
        for i = 2, #ARGV, 2 do
          local id = ARGV[i]
          local key = P .. 'task:' .. id
          local f = redis.call('HMGET', key, 'st', 'tok', 'att')
          if f[1] == 'processing' and f[2] == ARGV[i + 1] then
            redis.call('HSET', key, 'st', 'queued', 'prog', 0, 'att', tonumber(f[3]) - 1)
            redis.call('ZREM', P .. 'tasks:leases', id)
            redis.call('ZADD', P .. 'tasks:ready', 0, redis.call('HGET', key, 'rk') .. id)
            count = count + 1
          end
        end
        if count > 0 then redis.call('PUBLISH', P .. 'tasks:wake', 'released') end
        return count
        """)

    /// ARGV: P, id, lifetime (ms). Answers "cancelled", "finished:<status>" or "not_found".
    static let cancel = script("cancel", """
        local id = ARGV[2]
        local key = P .. 'task:' .. id
        local now = now_ms()
        local f = redis.call('HMGET', key, 'st', 'rk', 'exp', 'tok')
        if not f[1] or (f[3] and tonumber(f[3]) <= now) then return 'not_found' end
        if f[1] ~= 'queued' and f[1] ~= 'processing' then return 'finished:' .. f[1] end
        local ttl = tonumber(ARGV[3])
        -- A new token fences out the worker that may hold the task.
        redis.call('HSET', key, 'st', 'cancelled', 'f', now, 'tok', tonumber(f[4]) + 1)
        redis.call('ZREM', P .. 'tasks:ready', f[2] .. id)
        redis.call('ZREM', P .. 'tasks:delayed', id)
        finish(id, key, 'x', now, ttl, 'cancelled')
        return 'cancelled'
        """)

    /// ARGV: P, deliveries before dead-lettering, lifetime of a dead letter (ms). Answers
    /// {dead-lettered, requeued}.
    static let reclaim = script("reclaim", """
        local now = now_ms()
        local leases = P .. 'tasks:leases'
        local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', '(' .. now, 'LIMIT', 0, 1000)
        local maxAttempts = tonumber(ARGV[2])
        local ttl = tonumber(ARGV[3])
        local dead, requeued = 0, 0
        for _, id in ipairs(expired) do
          local key = P .. 'task:' .. id
          local f = redis.call('HMGET', key, 'st', 'att', 'rk')
          redis.call('ZREM', leases, id)
          if f[1] == 'processing' then
            if tonumber(f[2]) >= maxAttempts then
              local cause = 'dead-lettered after ' .. f[2] .. ' deliveries: the worker holding it stopped before finishing each time'
              redis.call('HSET', key, 'st', 'error', 'f', now, 'err', cause)
              finish(id, key, 'e', now, ttl, cause)
              dead = dead + 1
            else
              redis.call('HSET', key, 'st', 'queued', 'prog', 0)
              redis.call('ZADD', P .. 'tasks:ready', 0, f[3] .. id)
              requeued = requeued + 1
            end
          end
        end
        if requeued > 0 then redis.call('PUBLISH', P .. 'tasks:wake', 'reclaimed') end
        return {dead, requeued}
        """)

    /// ARGV: P. Deletes up to 10,000 expired tasks of each kind; answers how many.
    static let purge = script("purge", """
        local now = now_ms()
        local count = 0
        for _, kind in ipairs({'c', 'e', 'x'}) do
          local finished = P .. 'tasks:finished:' .. kind
          local gone = redis.call('ZRANGEBYSCORE', finished, '-inf', now, 'LIMIT', 0, 10000)
          for _, id in ipairs(gone) do
            redis.call('DEL', P .. 'task:' .. id, P .. 'flow:' .. id, P .. 'flow:' .. id .. ':children')
            redis.call('ZREM', finished, id)
          end
          count = count + #gone
        end
        return count
        """)
}
