/// Polls a server (`GET /api/tasks?task_ids=…`, a page of ids per request) until every task
/// is finished: completed, error, cancelled or not_found.
package struct TaskWaiter: Sendable {
    package var client: TaskClient
    package var retry: ServerRetry
    /// The pause between two rounds over the unfinished tasks.
    package var pollInterval: Duration
    /// Ids per request.
    package var pageSize: Int

    package init(client: TaskClient, retry: ServerRetry = ServerRetry(), pollInterval: Duration = .milliseconds(500), pageSize: Int = 200) {
        self.client = client
        self.retry = retry
        self.pollInterval = pollInterval
        self.pageSize = max(1, pageSize)
    }

    /// Waits for every task of `ids`; answers the summary of each. `onProgress` is told after
    /// every page, `onRetry` of each failed request that is made again.
    package func wait(
        for ids: [String],
        onProgress: (WaitProgress) -> Void,
        onRetry: (TaskClientError, Duration) -> Void
    ) async throws -> [String: TaskSummary] {
        var seen: Set<String> = []
        var pending = ids.filter { seen.insert($0).inserted }
        var summaries: [String: TaskSummary] = [:]
        var progress = WaitProgress(total: pending.count, everyTaskRead: false)
        while true {
            for start in stride(from: 0, to: pending.count, by: pageSize) {
                let page = Array(pending[start..<min(start + pageSize, pending.count)])
                let answer = try await retry.run({ try await client.summaries(ids: page) }, onRetry: onRetry)
                for id in page {
                    guard let summary = answer[id], summary.isFinished else { continue }
                    summaries[id] = summary
                    progress.count(summary)
                }
                if start + pageSize >= pending.count { progress.everyTaskRead = true }
                onProgress(progress)
            }
            pending.removeAll { summaries[$0] != nil }
            if pending.isEmpty { return summaries }
            try await Task.sleep(for: pollInterval)
        }
    }
}
