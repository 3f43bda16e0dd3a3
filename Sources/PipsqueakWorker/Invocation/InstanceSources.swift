import Foundation
import Logging
import PipsqueakCache
import PipsqueakCore
import PipsqueakSandbox

extension Worker {
    /// A new instance for `record`, when the handler cache (tier 1) has none to lend: its packages installed
    /// (tier 3) if the store lost any, then a fork of a zygote (tier 2), or else a fresh sandbox and interpreter.
    func startInstance(_ record: HandlerRecord, logger: Logger) async throws(PipsqueakError) -> Sandbox {
        await installCache.reserve(record.packages)
        defer { Task { await self.installCache.release(record.packages) } }
        let installedFirst = record.packages.isEmpty ? 0 : try await installCache.ensureInstalled(record.packages)
        let request = sandboxRequest(for: record)
        let sandbox: Sandbox
        if let forked = await startFromZygote(record, request, logger: logger) {
            sandbox = forked
        } else {
            sandbox = try await launcher.launch(request, logger: logger)
        }
        if installedFirst > 0 { sandbox.origin = .install }
        return sandbox
    }

    /// The sandbox of one instance of `record`: its code, its exact package closure, its limits.
    func sandboxRequest(for record: HandlerRecord) -> SandboxRequest {
        SandboxRequest(
            handler: record.name, codeDirectory: registry.codeDirectory(digest: record.digest).path,
            entry: record.manifest.entry, memoryMB: record.manifest.memoryMB ?? config.defaultMemoryMB,
            startTimeoutSeconds: max(record.manifest.timeoutSeconds ?? config.defaultTimeoutS, 10),
            network: record.manifest.network ?? .none, environment: record.manifest.environment,
            extraBinds: record.packages.map { (installer.siteDirectory(of: $0).path, $0.pathInSandbox) },
            pythonPaths: record.packages.map(\.pathInSandbox), packages: record.packages)
    }
}
