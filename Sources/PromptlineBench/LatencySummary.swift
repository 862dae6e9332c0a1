import Foundation
import PromptlineCore

/// Percentiles of a set of latencies, by nearest rank: p99 of 10,000 samples is the 9,900th
/// fastest, a value that was really measured.
struct LatencySummary: Sendable {
    private let sorted: [Duration]

    init(_ latencies: [Duration]) {
        sorted = latencies.sorted()
    }

    var count: Int { sorted.count }

    /// The latency that `fraction` (0...1) of the samples do not exceed; zero without samples.
    func percentile(_ fraction: Double) -> Duration {
        guard !sorted.isEmpty else { return .zero }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
    }

    var p50: Duration { percentile(0.5) }
    var p90: Duration { percentile(0.9) }
    var p99: Duration { percentile(0.99) }
    var max: Duration { sorted.last ?? .zero }

    /// `p50 0.123 p90 … max … ms`, for progress lines.
    var line: String {
        "p50 \(p50.formattedMilliseconds) p90 \(p90.formattedMilliseconds) p99 \(p99.formattedMilliseconds) max \(max.formattedMilliseconds) ms"
    }
}

extension Duration {
    /// Milliseconds with three decimals, the precision the proxy figures are read at.
    var formattedMilliseconds: String {
        String(format: "%.3f", seconds * 1_000)
    }
}
