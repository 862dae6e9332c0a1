import Foundation
import Synchronization

/// What one Promptline instance says about itself in its heartbeat.
package struct InstanceReport: Sendable, Hashable, Codable {
    package var id: String
    package var workersBusy: Int
    package var workersTotal: Int
    package var tasksProcessed: Int
    package var startedAt: Date
    /// When the report was made.
    package var lastSeen: Date

    package init(id: String, workersBusy: Int, workersTotal: Int, tasksProcessed: Int, startedAt: Date, lastSeen: Date) {
        self.id = id
        self.workersBusy = workersBusy
        self.workersTotal = workersTotal
        self.tasksProcessed = tasksProcessed
        self.startedAt = startedAt
        self.lastSeen = lastSeen
    }
}

/// Where instances report that they are alive, and where anyone can see which are.
package protocol ClusterRegistry: Sendable {
    /// Records `report`; an instance that stops beating for `staleAfter` counts as gone.
    func beat(_ report: InstanceReport, staleAfter: Duration) async throws
    /// Removes an instance at once (a clean shutdown).
    func leave(id: String) async throws
    /// The live instances, oldest first.
    func instances() async throws -> [InstanceReport]
}

/// The registry of a single instance (the embedded store): it knows only itself.
package final class LocalClusterRegistry: ClusterRegistry {
    private let reports = Mutex<[String: (InstanceReport, Date)]>([:])

    package init() {}

    package func beat(_ report: InstanceReport, staleAfter: Duration) async throws {
        reports.withLock { $0[report.id] = (report, report.lastSeen.addingTimeInterval(staleAfter.seconds)) }
    }

    package func leave(id: String) async throws {
        reports.withLock { _ = $0.removeValue(forKey: id) }
    }

    package func instances() async throws -> [InstanceReport] {
        let now = Date()
        return reports.withLock { $0.values.filter { $0.1 > now }.map(\.0) }.sorted { $0.startedAt < $1.startedAt }
    }
}
