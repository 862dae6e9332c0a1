/// What the mock has been asked: chat-completion calls by prompt (the last user message) and answers by status.
struct CallLedger: Sendable {
    /// The calls for one prompt. The first time is kept inline so that a prompt asked once costs no array.
    struct Entry: Sendable {
        var count = 0
        var firstTime = 0.0
        var laterTimes: [Double] = []

        var times: [Double] {
            count == 0 ? [] : [firstTime] + laterTimes
        }
    }

    private(set) var entries: [String: Entry] = [:]
    private(set) var statuses: [Int: Int] = [:]
    private(set) var totalCalls = 0
    private(set) var resets = 0
    private(set) var cuts = 0
    private(set) var stalls = 0

    /// Counts a call for `prompt` at `time` (unix seconds) and returns its 1-based number for that prompt.
    mutating func recordCall(prompt: String, at time: Double) -> Int {
        totalCalls += 1
        var count = 0
        entries[prompt, default: Entry()].record(time, count: &count)
        return count
    }

    /// Counts a chat-completion request that had no readable prompt.
    mutating func recordUnreadableCall() {
        totalCalls += 1
    }

    mutating func recordStatus(_ status: Int) {
        statuses[status, default: 0] += 1
    }

    mutating func recordReset() {
        resets += 1
    }

    mutating func recordCut() {
        cuts += 1
    }

    mutating func recordStall() {
        stalls += 1
    }

    /// The figures of `GET /mock/stats`, small enough to copy out of a lock.
    struct Summary: Sendable {
        var totalCalls: Int
        var statuses: [Int: Int]
        var distinctPrompts: Int
        var resets: Int
        var cuts: Int
        var stalls: Int
    }

    var summary: Summary {
        Summary(
            totalCalls: totalCalls, statuses: statuses, distinctPrompts: entries.count, resets: resets, cuts: cuts,
            stalls: stalls
        )
    }

    func entry(forPrompt prompt: String) -> Entry {
        entries[prompt] ?? Entry()
    }
}

extension CallLedger.Entry {
    fileprivate mutating func record(_ time: Double, count: inout Int) {
        if self.count == 0 {
            firstTime = time
        } else {
            laterTimes.append(time)
        }
        self.count += 1
        count = self.count
    }
}
