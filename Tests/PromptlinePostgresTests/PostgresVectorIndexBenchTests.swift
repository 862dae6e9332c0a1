import Foundation
import Logging
import PromptlinePostgres
import Testing

/// The bench helper's plumbing, on a set small enough for the exact plan: every answer is
/// the brute-force one, so recall must be 1.
@Suite(.enabled(if: TestPostgres.url != nil, "PROMPTLINE_TEST_POSTGRES_URL is not set: run ./scripts/test.sh, or ./scripts/start-postgres.sh and export the URL it prints"))
struct PostgresVectorIndexBenchTests {
    @Test(.timeLimit(.minutes(1)))
    func anExactPlanRecallsEverything() async throws {
        let url = try #require(TestPostgres.url)
        let vectors: [[Float]] = (0..<1_500).map { number in (0..<16).map { Float(sin(Double(number * 16 + $0) * 0.7)) } }
        let queries: [[Float]] = (0..<5).map { number in (0..<16).map { Float(cos(Double(number * 16 + $0) * 1.3)) } }
        let report = try await PostgresVectorIndexBench.run(url: url, vectors: vectors, queries: queries, chunksPerFile: 100, logger: Logger(label: "test"))
        #expect(report.vectors == 1_500 && report.dimension == 16 && report.queries == 5)
        #expect(report.recall == 1, "\(report)")
    }
}
