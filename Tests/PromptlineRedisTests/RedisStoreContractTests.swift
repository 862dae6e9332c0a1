import Foundation
import Logging
import PromptlineCore
import PromptlineRedis
import PromptlineStoreContract
import RedisClient
import Testing

/// The store contract, run against a real Redis.
///
/// The Redis is the one `PROMPTLINE_TEST_REDIS_URL` names (the test command starts one);
/// every store a case opens gets a key prefix of its own, and its keys are deleted after. A
/// second instance is a second store (its own connections) on the same prefix.
@Suite struct RedisStoreContractTests {
    @Test(.timeLimit(.minutes(1)), arguments: StoreContract.cases)
    func contract(_ contractCase: StoreContract.Case) async throws {
        let redis = try TestRedis.configuration()
        try await contractCase.run(
            { retention in
                try await RedisTaskStore.open(
                    RedisTaskStore.Configuration(redis: redis, keyPrefix: "contract-\(UUID().uuidString.lowercased()):", retention: retention),
                    logger: Logger(label: "test")
                )
            },
            sibling: { store in
                let store = try #require(store as? RedisTaskStore)
                return try await RedisTaskStore.open(store.configuration, logger: Logger(label: "test"))
            },
            close: { store in
                let store = try #require(store as? RedisTaskStore)
                try await TestRedis.deleteKeys(prefix: store.configuration.keyPrefix, pool: store.pool)
                await store.close()
            }
        )
    }
}

/// The Redis the tests use.
enum TestRedis {
    static func configuration() throws -> RedisConfiguration {
        guard let url = ProcessInfo.processInfo.environment["PROMPTLINE_TEST_REDIS_URL"] else {
            throw TestRedisMissing()
        }
        return try RedisConfiguration(url: url)
    }

    struct TestRedisMissing: Error, CustomStringConvertible {
        var description: String {
            "PROMPTLINE_TEST_REDIS_URL is not set: run ./scripts/test.sh, or start redis-server and set it (e.g. redis://127.0.0.1:6379/0)"
        }
    }

    /// Deletes every key under `prefix`.
    static func deleteKeys(prefix: String, pool: RedisConnectionPool) async throws {
        var cursor = "0"
        repeat {
            let reply = try await pool.send(RawCommand("SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"))
            guard let parts = reply.elements, parts.count == 2 else { return }
            cursor = parts[0].string ?? "0"
            let keys = (parts[1].elements ?? []).compactMap(\.string)
            if !keys.isEmpty { _ = try await pool.send(DEL(keys)) }
        } while cursor != "0"
    }
}
