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
    /// Calls being answered now, and the most there ever were at once, per `user`.
    private(set) var inFlightByUser: [String: Int] = [:]
    private(set) var maxInFlightByUser: [String: Int] = [:]

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

    /// A call for `user` starts being answered.
    mutating func begin(user: String) {
        let now = inFlightByUser[user, default: 0] + 1
        inFlightByUser[user] = now
        maxInFlightByUser[user] = max(maxInFlightByUser[user, default: 0], now)
    }

    /// A call for `user` has its answer (or its fault).
    mutating func end(user: String) {
        inFlightByUser[user, default: 1] -= 1
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
        var maxInFlightByUser: [String: Int]
    }

    var summary: Summary {
        Summary(
            totalCalls: totalCalls, statuses: statuses, distinctPrompts: entries.count, resets: resets, cuts: cuts,
            stalls: stalls, maxInFlightByUser: maxInFlightByUser
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
