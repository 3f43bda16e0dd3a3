import PipsqueakCore
import Testing

@Suite struct HandlerManifestTests {
    @Test func emptyManifestUsesDefaults() throws {
        let manifest = try HandlerManifest.parse(yaml: "")
        #expect(manifest.entry == "f.f")
        #expect(manifest.entryModule == "f")
        #expect(manifest.entryFunction == "f")
        #expect(manifest.memoryMB == nil)
    }

    @Test func parsesEveryKey() throws {
        let manifest = try HandlerManifest.parse(yaml: """
            entry: lambda_function.lambda_handler
            memory_mb: 128
            timeout_s: 2.5
            max_instances: 3
            network: host
            environment:
              MODE: fast
              LEVEL: 3
            """)
        #expect(manifest.entryModule == "lambda_function")
        #expect(manifest.entryFunction == "lambda_handler")
        #expect(manifest.memoryMB == 128)
        #expect(manifest.timeoutSeconds == 2.5)
        #expect(manifest.maxInstances == 3)
        #expect(manifest.network == .host)
        #expect(manifest.environment == ["MODE": "fast", "LEVEL": "3"])
    }

    @Test(arguments: [
        ("colour: blue", "unknown key"),
        ("memory_mb: lots", "memory_mb"),
        ("memory_mb: 1", "memory_mb"),
        ("timeout_s: 0", "timeout_s"),
        ("max_instances: 0", "max_instances"),
        ("network: bridge", "network"),
        ("entry: f", "entry"),
        ("entry: 'f.1x'", "entry"),
        ("environment: [a, b]", "environment"),
        ("environment: {'1BAD': x}", "environment"),
        ("- just\n- a list", "mapping"),
        ("key: [unclosed", "YAML"),
    ])
    func rejectsBadManifests(_ yaml: String, _ mentions: String) {
        do {
            _ = try HandlerManifest.parse(yaml: yaml)
            Issue.record("expected \(yaml) to be rejected")
        } catch {
            #expect(error.code == .invalidManifest)
            #expect(error.message.contains(mentions), "\(error.message)")
        }
    }
}
