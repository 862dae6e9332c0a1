import Foundation
import NIOCore
import PromptlineCore
import RedisClient

/// Documents are hashes that Redis expires by itself, with a sorted set per collection for
/// listing (the key layout is in ``Scripts``). Each change is one script, so an insert and
/// its index entry, or a version check and the replacement, happen together.
extension RedisTaskStore: DocumentStore {
    package func insertDocument(collection: String, id: String, body: Data, ttl: Duration) async throws -> Bool {
        let reply = try await run(Scripts.insertDocument, [
            .string(configuration.keyPrefix), .string(collection), .string(id),
            .bytes(ByteBuffer(bytes: body)), .integer(ttl.milliseconds),
        ])
        return try Self.integer(reply) == 1
    }

    package func document(collection: String, id: String) async throws -> StoredDocument? {
        let reply = try await run(Scripts.readDocument, [.string(configuration.keyPrefix), .string(collection), .string(id)])
        let fields = try Self.elements(reply)
        guard fields.count == 3 else { throw Self.unreadable("readDocument") }
        let (body, version, created) = (fields[0], fields[1], fields[2])
        if case .null = version { return nil }
        return try Self.document(collection: collection, id: id, body: body, version: version, created: created)
    }

    package func replaceDocument(
        collection: String, id: String, body: Data, ifVersion version: Int, ttl: Duration?
    ) async throws -> StoredDocument? {
        let reply = try await run(Scripts.replaceDocument, [
            .string(configuration.keyPrefix), .string(collection), .string(id), .integer(Int64(version)),
            .bytes(ByteBuffer(bytes: body)), ttl.map { .integer($0.milliseconds) } ?? .string(""),
        ])
        if case .null = reply { return nil }
        let fields = try Self.elements(reply)
        guard fields.count == 2, let newVersion = fields[0].int64, let created = fields[1].int64 else {
            throw Self.unreadable("replaceDocument")
        }
        return StoredDocument(
            collection: collection, id: id, body: body, version: Int(newVersion), createdAt: Self.date(milliseconds: created)
        )
    }

    package func deleteDocument(collection: String, id: String) async throws -> Bool {
        let reply = try await run(Scripts.deleteDocument, [.string(configuration.keyPrefix), .string(collection), .string(id)])
        return try Self.integer(reply) == 1
    }

    package func documents(collection: String, after: String?, limit: Int) async throws -> [StoredDocument] {
        guard limit > 0 else { return [] }
        let reply = try await run(Scripts.listDocuments, [
            .string(configuration.keyPrefix), .string(collection), .string(after ?? ""), .integer(Int64(limit)),
        ])
        let values = try Self.elements(reply)
        guard values.count % 4 == 0 else { throw Self.unreadable("listDocuments") }
        return try stride(from: 0, to: values.count, by: 4).map { index in
            guard let id = values[index].string else { throw Self.unreadable("listDocuments") }
            return try Self.document(
                collection: collection, id: id, body: values[index + 1], version: values[index + 2], created: values[index + 3]
            )
        }
    }

    private static func document(
        collection: String, id: String, body: RESPValue, version: RESPValue, created: RESPValue
    ) throws -> StoredDocument {
        guard case .bulkString(let bytes) = body, let version = version.int64, let created = created.int64 else {
            throw unreadable("document")
        }
        return StoredDocument(
            collection: collection, id: id, body: Data(bytes.readableBytesView), version: Int(version),
            createdAt: date(milliseconds: created)
        )
    }

    private static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1_000)
    }
}

/// The document scripts. Each takes ARGV: P, collection, id (or the listing's cursor), then
/// its own values.
extension Scripts {
    private static func documentScript(_ name: String, readOnly: Bool = false, _ body: String) -> RedisScript {
        script(name, readOnly: readOnly, """
            local C = ARGV[2]
            local index = P .. 'docs:' .. C
            local function doc(id) return P .. 'doc:' .. C .. ':' .. id end

            """ + body)
    }

    /// ARGV: P, collection, id, body, lifetime (ms). Answers 1 when stored, 0 when the id
    /// is taken. Also drops the expired ids among the collection's 8 oldest, so that an
    /// index nobody lists does not grow without end.
    static let insertDocument = documentScript("insertDocument", """
        local key = doc(ARGV[3])
        if redis.call('EXISTS', key) == 1 then return 0 end
        for _, old in ipairs(redis.call('ZRANGE', index, 0, 7)) do
          if redis.call('EXISTS', doc(old)) == 0 then redis.call('ZREM', index, old) end
        end
        local now = now_ms()
        redis.call('HSET', key, 'b', ARGV[4], 'v', 1, 'c', now)
        redis.call('PEXPIRE', key, ARGV[5])
        redis.call('ZADD', index, now, ARGV[3])
        return 1
        """)

    /// ARGV: P, collection, id. Answers {body, version, created (ms)}, all false when absent.
    static let readDocument = documentScript("readDocument", readOnly: true, """
        return redis.call('HMGET', doc(ARGV[3]), 'b', 'v', 'c')
        """)

    /// ARGV: P, collection, id, expected version, body, new lifetime (ms) or "" to keep the
    /// expiry. Answers {version, created (ms)}, or nil when absent or at another version.
    static let replaceDocument = documentScript("replaceDocument", """
        local key = doc(ARGV[3])
        local f = redis.call('HMGET', key, 'v', 'c')
        if not f[1] or tonumber(f[1]) ~= tonumber(ARGV[4]) then return false end
        local version = tonumber(f[1]) + 1
        redis.call('HSET', key, 'b', ARGV[5], 'v', version)
        if ARGV[6] ~= '' then redis.call('PEXPIRE', key, ARGV[6]) end
        return {version, f[2]}
        """)

    /// ARGV: P, collection, id. Answers 1 when it was there.
    static let deleteDocument = documentScript("deleteDocument", """
        redis.call('ZREM', index, ARGV[3])
        return redis.call('DEL', doc(ARGV[3]))
        """)

    /// ARGV: P, collection, cursor id or "", limit. Answers 4 values per document, newest
    /// first: id, body, version, created (ms). Drops the ids it passes whose hash expired.
    static let listDocuments = documentScript("listDocuments", """
        local limit = tonumber(ARGV[4])
        local start = 0
        if ARGV[3] ~= '' then
          local rank = redis.call('ZREVRANK', index, ARGV[3])
          if rank then start = rank + 1 end
        end
        local out = {}
        local found = 0
        while found < limit do
          local ids = redis.call('ZREVRANGE', index, start, start + limit - found - 1)
          if #ids == 0 then break end
          local dropped = 0
          for _, id in ipairs(ids) do
            local f = redis.call('HMGET', doc(id), 'b', 'v', 'c')
            if f[2] then
              out[#out + 1] = id
              out[#out + 1] = f[1]
              out[#out + 1] = f[2]
              out[#out + 1] = f[3]
              found = found + 1
            else
              redis.call('ZREM', index, id)
              dropped = dropped + 1
            end
          end
          -- The ids dropped stood before the next unread one, which moves up by as many.
          start = start + #ids - dropped
        end
        return out
        """)
}
