import Logging

/// One setting of `promptline serve`, described once: its flag, its environment variables,
/// its config-file key, its default, how a value is read and checked, and whether it is a
/// secret. `--help`, `docs/configuration.md`, the environment and config-file reading,
/// validation and the masked start-up print are all derived from ``Setting/all``.
package struct Setting: Sendable, Hashable, CustomStringConvertible {
    /// The flag without its dashes, e.g. `upstream-url`.
    package let name: String
    /// The environment variables that set it; the first one present wins.
    package let environment: [String]
    /// What it does, without its default.
    package let summary: String
    /// The default as `--help` and the docs show it.
    package let defaultText: String
    /// The kind of value, for the config file's type check and the docs.
    package let kind: Kind
    /// A secret is never printed: it shows as `set` or `none`.
    package let isSecret: Bool
    /// Reads a value into the settings, or says why it cannot.
    let apply: @Sendable (String, inout ServerSettings) throws(SettingProblem) -> Void
    /// The value as it may be printed (a secret masked), or nil when unset.
    let show: @Sendable (ServerSettings) -> String?

    /// The kinds of value a setting takes.
    package enum Kind: String, Sendable {
        case text, integer, number, boolean

        /// The placeholder `--help` shows after the flag.
        var placeholder: String {
            switch self {
            case .text: "<text>"
            case .integer: "<n>"
            case .number: "<x>"
            case .boolean: "<bool>"
            }
        }
    }

    /// `--name`.
    package var flag: String { "--\(name)" }

    package var description: String { flag }

    /// Its key in the config file: the flag's name with `_` for `-`.
    package var fileKey: String { name.replacingOccurrences(of: "-", with: "_") }

    /// The flag and the first environment variable, for messages that say how to change it.
    package var named: String { "\(flag) / \(environment[0])" }

    /// The help line: what it does, its default and its environment variables.
    package var help: String {
        "\(summary) Default: \(defaultText). Env: \(environment.joined(separator: ", "))."
    }

    package static func == (a: Setting, b: Setting) -> Bool { a.name == b.name }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(name)
    }

    /// The setting whose flag is `--name`.
    package static func named(_ name: String) -> Setting? {
        all.first { $0.name == name }
    }

    /// The setting whose config-file key is `key`.
    package static func forFileKey(_ key: String) -> Setting? {
        all.first { $0.fileKey == key }
    }
}

/// Why one setting's value was refused.
package struct SettingProblem: Error {
    package var reason: String
}

// MARK: - Building the table

extension Setting {
    private static let defaults = ServerSettings()

    /// A string setting; `allowEmpty` lets an empty value through (otherwise refused).
    static func text(
        _ name: String, _ keyPath: WritableKeyPath<ServerSettings, String> & Sendable, env: [String], _ summary: String,
        default defaultText: String? = nil, allowEmpty: Bool = false
    ) -> Setting {
        Setting(
            name: name, environment: env, summary: summary, defaultText: defaultText ?? shown(defaults[keyPath: keyPath]),
            kind: .text, isSecret: false,
            apply: { raw, settings throws(SettingProblem) in
                settings[keyPath: keyPath] = allowEmpty ? raw : try nonEmpty(raw)
            },
            show: { $0[keyPath: keyPath] }
        )
    }

    /// A string setting that may be unset (an empty value unsets it); `check` refuses a bad one.
    static func optionalText(
        _ name: String, _ keyPath: WritableKeyPath<ServerSettings, String?> & Sendable, env: [String], _ summary: String,
        default defaultText: String = "none", secret: Bool = false,
        check: (@Sendable (String) throws(SettingProblem) -> Void)? = nil,
        show: (@Sendable (String) -> String)? = nil
    ) -> Setting {
        Setting(
            name: name, environment: env, summary: summary, defaultText: defaultText, kind: .text, isSecret: secret,
            apply: { raw, settings throws(SettingProblem) in
                if !raw.isEmpty { try check?(raw) }
                settings[keyPath: keyPath] = raw.isEmpty ? nil : raw
            },
            show: { settings in
                settings[keyPath: keyPath].map { value in secret ? "set" : show?(value) ?? value }
            }
        )
    }

    static func integer(
        _ name: String, _ keyPath: WritableKeyPath<ServerSettings, Int> & Sendable, env: [String], in range: ClosedRange<Int>,
        _ summary: String, default defaultText: String? = nil
    ) -> Setting {
        Setting(
            name: name, environment: env, summary: summary, defaultText: defaultText ?? "\(defaults[keyPath: keyPath])",
            kind: .integer, isSecret: false,
            apply: { raw, settings throws(SettingProblem) in settings[keyPath: keyPath] = try integer(raw, in: range) },
            show: { "\($0[keyPath: keyPath])" }
        )
    }

    static func number(
        _ name: String, _ keyPath: WritableKeyPath<ServerSettings, Double> & Sendable, env: [String], in range: ClosedRange<Double>,
        _ summary: String
    ) -> Setting {
        Setting(
            name: name, environment: env, summary: summary, defaultText: plain(defaults[keyPath: keyPath]),
            kind: .number, isSecret: false,
            apply: { raw, settings throws(SettingProblem) in settings[keyPath: keyPath] = try number(raw, in: range) },
            show: { plain($0[keyPath: keyPath]) }
        )
    }

    static func boolean(
        _ name: String, _ keyPath: WritableKeyPath<ServerSettings, Bool> & Sendable, env: [String], _ summary: String
    ) -> Setting {
        Setting(
            name: name, environment: env, summary: summary, defaultText: "\(defaults[keyPath: keyPath])",
            kind: .boolean, isSecret: false,
            apply: { raw, settings throws(SettingProblem) in settings[keyPath: keyPath] = try boolean(raw) },
            show: { "\($0[keyPath: keyPath])" }
        )
    }

    /// One of a fixed set of words (an enum with string raw values), read case-insensitively.
    static func choice<Value: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ keyPath: WritableKeyPath<ServerSettings, Value> & Sendable, env: [String], _ summary: String,
        what: String
    ) -> Setting where Value.RawValue == String {
        let words = Value.allCases.map(\.rawValue)
        return Setting(
            name: name, environment: env, summary: "\(summary) One of \(words.joined(separator: ", ")).",
            defaultText: defaults[keyPath: keyPath].rawValue, kind: .text, isSecret: false,
            apply: { raw, settings throws(SettingProblem) in
                guard let value = Value(rawValue: raw.lowercased()) else {
                    throw SettingProblem(reason: "'\(raw)' is not \(what) (\(words.joined(separator: ", ")))")
                }
                settings[keyPath: keyPath] = value
            },
            show: { $0[keyPath: keyPath].rawValue }
        )
    }

    // MARK: Readers

    static func nonEmpty(_ raw: String) throws(SettingProblem) -> String {
        guard !raw.isEmpty else { throw SettingProblem(reason: "must not be empty") }
        return raw
    }

    static func integer(_ raw: String, in range: ClosedRange<Int>) throws(SettingProblem) -> Int {
        guard let value = Int(raw) else { throw SettingProblem(reason: "'\(raw)' is not a whole number") }
        guard range.contains(value) else {
            throw SettingProblem(reason: "\(value) is out of range (\(range.lowerBound) to \(range.upperBound))")
        }
        return value
    }

    static func number(_ raw: String, in range: ClosedRange<Double>) throws(SettingProblem) -> Double {
        guard let value = Double(raw), value.isFinite else { throw SettingProblem(reason: "'\(raw)' is not a number") }
        guard range.contains(value) else {
            throw SettingProblem(reason: "\(raw) is out of range (\(plain(range.lowerBound)) to \(plain(range.upperBound)))")
        }
        return value
    }

    static func boolean(_ raw: String) throws(SettingProblem) -> Bool {
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw SettingProblem(reason: "'\(raw)' is not true or false")
        }
    }

    /// A number without a needless `.0`: 30, 0.5.
    static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// A text default as help shows it: `none` for an empty one.
    private static func shown(_ value: String) -> String {
        value.isEmpty ? "none" : value
    }
}
