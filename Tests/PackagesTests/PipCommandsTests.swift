import Foundation
import PipsqueakCore
import Testing
@testable import PipsqueakPackages

@Suite struct PipCommandsTests {
    /// The download and install scripts, run by a real shell with `true` standing in for Python, print a timing
    /// line the parser reads.
    @Test func scriptsReportTheirOwnSeconds() throws {
        let pip = PipCommands(python: "/bin/true", indexURL: "file:///index", findLinks: "", uid: 1)
        for command in [pip.download(PackageRef(name: "it's", version: "1.0")), pip.installDownloaded] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let seconds = try #require(PipCommands.commandSeconds(in: "pip noise\n" + text))
            #expect(seconds >= 0)
        }
    }

    @Test func malformedTimingLinesAreIgnored() {
        #expect(PipCommands.commandSeconds(in: "") == nil)
        #expect(PipCommands.commandSeconds(in: "pipsqueak-timing 1") == nil)
        #expect(PipCommands.commandSeconds(in: "pipsqueak-timing 3 2") == nil, "clocks never run backwards")
        #expect(PipCommands.commandSeconds(in: "pipsqueak-timing 1000000000 3500000000\n") == 2.5)
    }

    @Test func remoteIndexesGetTheOutboundNetworkAndLocalOnesNone() {
        #expect(PipCommands(python: "/p", indexURL: "https://pypi.org/simple", findLinks: "", uid: 1).network == .outbound)
        #expect(PipCommands(python: "/p", indexURL: "file:///srv/index", findLinks: "", uid: 1).network == .none)
    }

    @Test func trustedHostsReachPip() {
        let pip = PipCommands(python: "/p", indexURL: "http://10.1.2.3:8080/simple", findLinks: "", trustedHosts: ["10.1.2.3:8080"], uid: 1)
        let command = pip.resolve.joined(separator: " ")
        #expect(command.contains("--trusted-host 10.1.2.3:8080"))
        #expect(pip.download(PackageRef(name: "six", version: "1.0")).joined(separator: " ").contains("'--trusted-host' '10.1.2.3:8080'"))
    }
}
