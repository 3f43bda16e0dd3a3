import Foundation
import PipsqueakCore
import Testing
@testable import PipsqueakCache

@Suite struct PipCommandsTests {
    /// The install script, run by a real shell with `true` standing in for Python, prints a timing line the parser reads.
    @Test func installScriptReportsDownloadAndInstallPhases() throws {
        let pip = PipCommands(python: "/bin/true", indexURL: "file:///index", findLinks: "", uid: 1)
        let command = pip.install(PackageRef(name: "it's", version: "1.0"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let phases = try #require(PipCommands.phaseSeconds(in: "pip noise\n" + text))
        #expect(phases.download >= 0 && phases.install >= 0)
    }

    @Test func malformedTimingLinesAreIgnored() {
        #expect(PipCommands.phaseSeconds(in: "") == nil)
        #expect(PipCommands.phaseSeconds(in: "pipsqueak-timing 1 2") == nil)
        #expect(PipCommands.phaseSeconds(in: "pipsqueak-timing 3 2 1") == nil, "clocks never run backwards")
        let phases = PipCommands.phaseSeconds(in: "pipsqueak-timing 1000000000 3000000000 3500000000\n")
        #expect(phases?.download == 2 && phases?.install == 0.5)
    }
}
