import Foundation
import Testing
@testable import PipBench

@Suite struct StartupTests {
    /// Modern wheels often lack `top_level.txt`; the module then comes from RECORD.
    @Test func topLevelModuleFromTopLevelTxtOrRecord() throws {
        let site = try TestSupport.temporaryDirectory("startup-site")
        defer { try? FileManager.default.removeItem(at: site) }
        let withRecord = site.appendingPathComponent("Click_Lib-8.5.1.dist-info")
        try FileManager.default.createDirectory(at: withRecord, withIntermediateDirectories: true)
        try "click_lib/__init__.py,sha256=x,1\r\nClick_Lib-8.5.1.dist-info/RECORD,,\r\n../../bin/click,sha256=y,2\r\n"  // pip writes CRLF
            .write(to: withRecord.appendingPathComponent("RECORD"), atomically: true, encoding: .utf8)
        let withTopLevel = site.appendingPathComponent("pyyaml-6.0.3.dist-info")
        try FileManager.default.createDirectory(at: withTopLevel, withIntermediateDirectories: true)
        try "_yaml\nyaml\n".write(to: withTopLevel.appendingPathComponent("top_level.txt"), atomically: true, encoding: .utf8)
        #expect(StartupStudy.topLevelModule(of: "click-lib", in: site) == "click_lib")
        #expect(StartupStudy.topLevelModule(of: "PyYAML", in: site) == "yaml")
        #expect(StartupStudy.topLevelModule(of: "missing", in: site) == nil)
    }
}
