import Foundation
import NIOCore
import PromptlineCore
import RedisClient

/// Instances' heartbeats in Redis: the sorted set `P cluster:heartbeats` (member: instance
/// id, score: time of the last beat in milliseconds since 1970) and, per instance, its
/// report as JSON in `P cluster:instance:<id>`, which expires when the instance goes stale.
package struct RedisClusterRegistry: ClusterRegistry {
    private let pool: RedisConnectionPool
    private let prefix: String
    private var heartbeats: String { prefix + "cluster:heartbeats" }

    package init(pool: RedisConnectionPool, keyPrefix: String) {
        self.pool = pool
        self.prefix = keyPrefix
    }

    private func reportKey(_ id: String) -> String { prefix + "cluster:instance:" + id }

    package func beat(_ report: InstanceReport, staleAfter: Duration) async throws {
        let now = report.lastSeen.timeIntervalSince1970 * 1_000
        let json = try JSONEncoder.reports.encode(report)
        // One round trip: record this beat, forget instances that stopped beating.
        let (added, stored, pruned) = try await pool.execute(
            ZADD(heartbeats, score: now.rounded(), member: report.id),
            SET(reportKey(report.id), ByteBuffer(bytes: json), expiry: staleAfter),
            ZREMRANGEBYSCORE(heartbeats, max: (now - Double(staleAfter.milliseconds)).rounded())
        )
        _ = try added.get()
        _ = try stored.get()
        _ = try pruned.get()
    }

    package func leave(id: String) async throws {
        let (removed, deleted) = try await pool.execute(ZREM(heartbeats, id), DEL(reportKey(id)))
        _ = try removed.get()
        _ = try deleted.get()
    }

    package func instances() async throws -> [InstanceReport] {
        let reply = try await pool.send(ZRANGEWITHSCORES(heartbeats))
        let ids = Self.members(reply)
        guard !ids.isEmpty else { return [] }
        let reports = try await pool.send(RawCommand(["MGET"] + ids.map(reportKey)))
        return (reports.elements ?? []).compactMap { value -> InstanceReport? in
            guard case .bulkString(let bytes) = value else { return nil }
            return try? JSONDecoder.reports.decode(InstanceReport.self, from: Data(bytes.readableBytesView))
        }.sorted { $0.startedAt < $1.startedAt }
    }

    /// The members of a `ZRANGE … WITHSCORES` reply: RESP3 answers [member, score] pairs,
    /// RESP2 a flat list.
    static func members(_ reply: RESPValue) -> [String] {
        let elements = reply.elements ?? []
        if elements.first?.elements != nil {
            return elements.compactMap { $0.elements?.first?.string }
        }
        return stride(from: 0, to: elements.count, by: 2).compactMap { elements[$0].string }
    }
}

extension JSONEncoder {
    fileprivate static var reports: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }
}

extension JSONDecoder {
    fileprivate static var reports: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }
}
