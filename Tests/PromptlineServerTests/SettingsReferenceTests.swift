import Foundation
@testable import PromptlineServer
import Testing

/// Every setting is one entry of the table, and what is written from the table is current.
@Suite struct SettingsReferenceTests {
    static let documentPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/configuration.md").path

    /// `PROMPTLINE_UPDATE_DOCS=1 swift test --filter SettingsReferenceTests` rewrites the file.
    @Test func docsConfigurationIsCurrent() throws {
        let expected = Setting.reference()
        if ProcessInfo.processInfo.environment["PROMPTLINE_UPDATE_DOCS"] == "1" {
            try Data(expected.utf8).write(to: URL(fileURLWithPath: Self.documentPath))
        }
        let written = try String(contentsOfFile: Self.documentPath, encoding: .utf8)
        #expect(written == expected, "docs/configuration.md is not what the settings table writes: run PROMPTLINE_UPDATE_DOCS=1 swift test --filter SettingsReferenceTests")
    }

    @Test func namesAreUnique() {
        #expect(Set(Setting.all.map(\.name)).count == Setting.all.count)
        #expect(Set(Setting.all.flatMap(\.environment)).count == Setting.all.flatMap(\.environment).count)
    }

    @Test(arguments: Setting.all)
    func aSettingSetsItsOwnValueOnly(setting: Setting) throws {
        // A value other than the default, read through the setting, changes what that setting
        // shows and nothing else: the table's reader and printer agree, and no two entries
        // write the same field.
        let defaults = ServerSettings()
        let candidates = ["redis://127.0.0.1:1/2", "postgres://u@127.0.0.1:1/db", "global", "error", "json", "2048", "77", "1.5", "false", "true"]
        let changed = candidates.lazy.compactMap { sample -> ServerSettings? in
            var settings = defaults
            guard (try? setting.apply(sample, &settings)) != nil, settings != defaults else { return nil }
            return settings
        }.first
        let settings = try #require(changed, "no sample value changes \(setting.flag)")
        let differing = Setting.all.filter { $0.show(defaults) != $0.show(settings) }.map(\.name)
        #expect(differing == [setting.name])
    }

    @Test func helpListsEverySettingWithItsDefaultAndVariables() {
        let help = Setting.serveHelp()
        for setting in Setting.all {
            #expect(help.contains(setting.flag + " "), "\(setting.flag) is missing from --help")
            for name in setting.environment {
                #expect(help.contains(name), "\(name) is missing from --help")
            }
        }
        #expect(help.contains("Default: 8000."))
        #expect(help.split(separator: "\n").allSatisfy { $0.count <= 100 })
    }
}
