import Foundation
@testable import PipsqueakCLI
import PipsqueakCore
import Testing

@Suite struct WorkerCommandTests {
    @Test func everyConfigKeyIsAlsoAFlag() {
        let help = WorkerCommand.helpMessage(columns: 400)
        // A list setting takes one value per flag, so its flag is singular.
        let singular = ["trusted_hosts": "--trusted-host "]
        for key in WorkerConfig.CodingKeys.allCases {
            let flag = singular[key.rawValue] ?? ("--" + key.rawValue.replacingOccurrences(of: "_", with: "-"))
            #expect(help.contains(flag), "missing flag \(flag)")
        }
    }

    @Test func flagWinsOverConfigFile() throws {
        let file = NSTemporaryDirectory() + "pipsqueak-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "handler_cache_mb: 300\nport: 6001\n".write(toFile: file, atomically: true, encoding: .utf8)
        let command = try WorkerCommand.parse(["--config", file, "--handler-cache-mb", "0"])
        let config = try command.resolvedConfig()
        #expect(config.handlerCacheMB == 0)
        #expect(config.port == 6001)
        #expect(config.stateDir == WorkerConfig().stateDir)
    }

    @Test func badFlagValueIsRejected() throws {
        let command = try WorkerCommand.parse(["--cgroup-version", "v7"])
        #expect(throws: PipsqueakError.self) { try command.resolvedConfig() }
    }

    @Test func rootCommandListsEverySubcommand() {
        let help = PipsqueakCommand.helpMessage()
        for subcommand in ["worker", "deploy", "invoke", "ls", "rm", "status", "bench"] {
            #expect(help.contains(subcommand))
        }
    }
}
