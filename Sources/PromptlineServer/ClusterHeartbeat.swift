import Foundation
import Logging
import PromptlineCore
import ServiceLifecycle

/// Reports this instance to the cluster registry every `interval`, and leaves it on a
/// clean shutdown. A registry that cannot be reached is tried again at the next beat.
struct ClusterHeartbeat: Service {
    let id: String
    let registry: any ClusterRegistry
    let pool: WorkerPool<ContinuousClock>
    let interval: Duration
    let startedAt: Date
    let logger: Logger

    /// An instance that has not beaten for this long counts as gone.
    var staleAfter: Duration { interval * 3 }

    func report() -> InstanceReport {
        InstanceReport(
            id: id, workersBusy: pool.busyWorkers, workersTotal: pool.workers,
            tasksProcessed: pool.tasksProcessed, startedAt: startedAt, lastSeen: Date()
        )
    }

    func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                try await registry.beat(report(), staleAfter: staleAfter)
                if failing { logger.notice("heartbeat recorded again") }
                failing = false
            } catch {
                if !failing { logger.warning("cannot record the heartbeat", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        do {
            try await registry.leave(id: id)
        } catch {
            logger.warning("could not leave the cluster registry; the entry will go stale", metadata: ["error": "\(error)"])
        }
    }
}
