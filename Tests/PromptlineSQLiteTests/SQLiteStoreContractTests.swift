import Foundation
import Logging
import PromptlineCore
import PromptlineSQLite
import PromptlineStoreContract
import Testing

/// The store contract, run against the embedded SQLite store.
///
/// Each case gets its own temporary directory; every store it opens lives in a fresh
/// subdirectory of it, and the whole directory is removed once the case is over. A second
/// instance is a second store opened on the same directory.
@Suite struct SQLiteStoreContractTests {
    @Test(.timeLimit(.minutes(1)), arguments: StoreContract.cases)
    func contract(_ contractCase: StoreContract.Case) async throws {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("promptline-contract-\(UUID().uuidString.lowercased())")
        defer { try? FileManager.default.removeItem(at: root) }
        try await contractCase.run(
            { retention in
                let directory = root.appendingPathComponent(UUID().uuidString.lowercased()).path
                return try await SQLiteTaskStore.open(
                    SQLiteTaskStore.Configuration(directory: directory, retention: retention),
                    logger: Logger(label: "test")
                )
            },
            sibling: { store in
                let store = try #require(store as? SQLiteTaskStore)
                return try await SQLiteTaskStore.open(store.configuration, logger: Logger(label: "test"))
            },
            close: { store in
                try await #require(store as? SQLiteTaskStore).close()
            }
        )
    }
}
