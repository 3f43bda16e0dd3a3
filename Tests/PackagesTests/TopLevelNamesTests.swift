import Foundation
@testable import PipsqueakPackages
import Testing

@Suite struct TopLevelNamesTests {
    func site(_ files: [String: String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("site-\(UUID().uuidString)")
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func prefersTopLevelTxt() throws {
        let root = try site(["six-1.0.dist-info/top_level.txt": "six\n", "six-1.0.dist-info/RECORD": "other.py,,\n"])
        #expect(TopLevelNames.find(in: root) == ["six"])
    }

    @Test func fallsBackToRecordLikeNumpyWheels() throws {
        let record = """
            ../../bin/f2py,sha256=x,216
            numpy-2.4.6.dist-info/INSTALLER,sha256=y,4
            numpy/__init__.py,sha256=z,10
            numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so,sha256=w,10
            numpy.libs/libopenblas.so,sha256=v,10
            single_module.py,sha256=u,3
            _private.py,sha256=t,3
            """
        // Real wheels' RECORD files use CRLF line endings.
        let root = try site(["numpy-2.4.6.dist-info/RECORD": record.replacingOccurrences(of: "\n", with: "\r\n")])
        #expect(TopLevelNames.find(in: root) == ["numpy", "single_module"])
    }
}


@Test func pythonListQuotesEachItem() {
    #expect(SandboxedInstaller.pythonList(["/packages/numpy-2.0", "it's"]) == #"['/packages/numpy-2.0', 'it\'s']"#)
    #expect(SandboxedInstaller.pythonList([]) == "[]")
}
