import PipsqueakCore
import Testing

@Suite struct WorkerConfigTests {
    @Test func defaultsAreValid() throws {
        let config = WorkerConfig()
        try config.validate()
        #expect(config.port == 5000)
        #expect(config.stateDir == "./.pipsqueak")
        #expect(config.python == "/usr/bin/python3")
    }

    @Test func fileOverridesDefaults() throws {
        let config = try WorkerConfig.parse(yaml: """
            port: 6001
            handler_cache_mb: 0
            index_url: http://127.0.0.1:9000/simple
            cpu_cores: 0.5
            """)
        #expect(config.port == 6001)
        #expect(config.handlerCacheMB == 0)
        #expect(config.indexURL == "http://127.0.0.1:9000/simple")
        #expect(config.cpuCores == 0.5)
        #expect(config.defaultMaxInstances == WorkerConfig().defaultMaxInstances)
    }

    @Test(arguments: ["nonsense: 1", "port: 70000", "port: x", "cgroup_version: v3", "python: python3", "[[[", "- a\n- b",
                      "port: [1, 2]", "cpu_cores: {a: 1}"])
    func rejectsBadConfigWithAClearError(_ yaml: String) {
        #expect(throws: PipsqueakError.self) { try WorkerConfig.parse(yaml: yaml) }
    }

    @Test func integerAcceptedForFractionalSetting() throws {
        #expect(try WorkerConfig.parse(yaml: "cpu_cores: 2").cpuCores == 2)
    }
}
