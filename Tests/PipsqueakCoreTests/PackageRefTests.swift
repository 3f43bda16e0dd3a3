import PipsqueakCore
import Testing

@Suite struct PackageRefTests {
    @Test(arguments: [("Django", "django"), ("zope.interface", "zope-interface"), ("Foo__Bar-.baz", "foo-bar-baz"),
                      ("typing_extensions", "typing-extensions"), ("numpy", "numpy")])
    func normalizesLikePEP503(_ raw: String, _ normalized: String) {
        #expect(PackageRef.normalize(raw) == normalized)
        #expect(PackageRef(name: raw, version: "1.0").name == normalized)
    }

    @Test func refusesPathLikeVersions() {
        #expect(PackageRef(name: "numpy", version: "2.1.0").isSafeForPaths)
        #expect(PackageRef(name: "torch", version: "2.1.0+cpu").isSafeForPaths)
        #expect(!PackageRef(name: "x", version: "../1").isSafeForPaths)
        #expect(!PackageRef(name: "x", version: "..").isSafeForPaths)
        #expect(!PackageRef(name: "x", version: "1/2").isSafeForPaths)
    }
}

@Suite struct RequirementsTests {
    @Test func keepsSpecifiersAndDropsComments() throws {
        let parsed = try Requirements.parse("""
            # a comment
            numpy>=1.26  # inline comment
            requests[socks]==2.31.0

            pandas ; python_version >= "3.9"
            """)
        #expect(parsed == ["numpy>=1.26", "requests[socks]==2.31.0", "pandas ; python_version >= \"3.9\""])
    }

    @Test(arguments: ["-e /etc", "--index-url http://evil/simple", "-r other.txt", "./local", "pkg @ https://evil/pkg.whl",
                      "/abs/path.whl"])
    func refusesOptionsPathsAndURLs(_ line: String) {
        #expect(throws: PipsqueakError.self) { try Requirements.parse(line) }
    }
}
