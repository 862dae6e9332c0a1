import Foundation

/// numpy's brute force on the knowledge scenario's vectors, for comparison.
extension Bench {
    /// What numpy measured: p50 and p99 per run (ms), and the rows of each query's top 10 in
    /// the last run.
    struct NumpySearch: Decodable {
        var version: String
        var p50: [Double]
        var p99: [Double]
        var top: [[Int]]
    }

    /// Runs ``numpyScript`` in `python3` on the float32 files for one run; `nil` (said
    /// through `progress`) when python3 or numpy is missing.
    func numpySearch(
        vectorsPath: String, queriesPath: String, count: Int, dimension: Int, warmup: Int, progress: (String) -> Void
    ) async throws -> NumpySearch? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.numpyScript, vectorsPath, queriesPath, "\(count)", "\(dimension)", "\(warmup)", "1"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/null"))
        do {
            try process.run()
        } catch {
            progress("knowledge: python3 not found, no numpy figures (\(error))")
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if let failure = try? JSONDecoder().decode([String: String].self, from: data), let message = failure["error"] {
            progress("knowledge: \(message), no numpy figures (pip install numpy)")
            return nil
        }
        guard process.terminationStatus == 0, let result = try? JSONDecoder().decode(NumpySearch.self, from: data) else {
            throw BenchError("the numpy comparison failed (status \(process.terminationStatus)): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        return result
    }

    /// Arguments: vectors file, queries file, rows, dimension, warm-up queries, runs. Prints
    /// one JSON object: ``NumpySearch``, or `{"error": …}` without numpy.
    static let numpyScript = """
        import json, math, sys, time
        try:
            import numpy as np
        except ImportError:
            print(json.dumps({"error": "numpy not installed"}))
            sys.exit(0)
        vectors, queries = sys.argv[1], sys.argv[2]
        n, d, warmup, runs = (int(a) for a in sys.argv[3:7])
        M = np.fromfile(vectors, dtype="<f4").reshape(n, d)
        M /= np.maximum(np.linalg.norm(M, axis=1, keepdims=True), 1e-30)
        Q = np.fromfile(queries, dtype="<f4").reshape(-1, d)
        Q = Q / np.maximum(np.linalg.norm(Q, axis=1, keepdims=True), 1e-30)
        k = min(10, n)
        def pct(sorted_ms, f):
            rank = math.ceil(f * len(sorted_ms))
            return sorted_ms[max(1, min(rank, len(sorted_ms))) - 1]
        p50, p99, tops = [], [], []
        for run in range(runs):
            ms, tops = [], []
            for i, q in enumerate(Q):
                start = time.perf_counter()
                s = M @ q
                top = np.argpartition(-s, k - 1)[:k]
                top = top[np.argsort(-s[top])]
                took = time.perf_counter() - start
                if i >= warmup:
                    ms.append(took * 1000)
                    tops.append(top.tolist())
            ms.sort()
            p50.append(pct(ms, 0.5))
            p99.append(pct(ms, 0.99))
        print(json.dumps({"version": np.__version__, "p50": p50, "p99": p99, "top": tops}))
        """
}
