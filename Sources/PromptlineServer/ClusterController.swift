import Hummingbird
import PromptlineCore

/// `GET /api/cluster`: the live instances and the shared queue.
struct ClusterController {
    let store: any TaskStore
    let registry: any ClusterRegistry
    /// "embedded" or "redis".
    let storeKind: String

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/cluster", use: cluster)
    }

    @Sendable func cluster(_ request: Request, context: some RequestContext) async throws -> Response {
        async let counts = store.counts()
        async let instances = registry.instances()
        return try JSONBody.response(ClusterView(
            store: storeKind, instances: try await instances.map(InstanceView.init), queue: try await counts
        ))
    }
}

struct ClusterView: Encodable {
    var store: String
    var instances: [InstanceView]
    var queue: QueueCounts
}

struct InstanceView: Encodable {
    var id: String
    var workersBusy: Int
    var workersTotal: Int
    var tasksProcessed: Int
    var startedAt: String
    var lastSeen: String

    init(_ report: InstanceReport) {
        id = report.id
        workersBusy = report.workersBusy
        workersTotal = report.workersTotal
        tasksProcessed = report.tasksProcessed
        startedAt = TaskDetail.timestamp(report.startedAt)
        lastSeen = TaskDetail.timestamp(report.lastSeen)
    }

    enum CodingKeys: String, CodingKey {
        case id
        case workersBusy = "workers_busy"
        case workersTotal = "workers_total"
        case tasksProcessed = "tasks_processed"
        case startedAt = "started_at"
        case lastSeen = "last_seen"
    }
}
