import ArgumentParser
import Foundation

/// `pipsqueak zygotes`: the import cache's zygote tree, drawn as a tree.
struct ZygotesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zygotes", abstract: "Show the import cache's zygote tree: packages, memory, hits and age of each zygote.")
    @OptionGroup var worker: WorkerOption
    @Flag(help: "Print the worker's JSON instead of the tree.") var json = false

    func run() async throws {
        let reply = try await worker.client.send(.GET, "/zygotes")
        guard reply.status == 200 else { throw CLIError(reply.errorMessage) }
        if json {
            print(reply.text)
            return
        }
        let nodes = (reply.json as? [[String: Any]]) ?? []
        if nodes.isEmpty {
            print("no zygotes (the import cache is off, or its root zygote is starting)")
            return
        }
        print(Self.render(nodes).joined(separator: "\n"))
    }

    /// Lines of the tree: each zygote under its parent, with its packages, memory, hits and age.
    static func render(_ nodes: [[String: Any]]) -> [String] {
        let byID = Dictionary(nodes.compactMap { node in (node["id"] as? String).map { ($0, node) } }, uniquingKeysWith: { first, _ in first })
        let roots = nodes.filter { node in (node["parent"] as? String).map { byID[$0] == nil } ?? true }
        var lines: [String] = []
        func visit(_ node: [String: Any], prefix: String, last: Bool, top: Bool) {
            let id = node["id"] as? String ?? "?"
            let packages = (node["packages"] as? [String]) ?? []
            let memory = node["memory"] as? [String: Any] ?? [:]
            func mib(_ key: String) -> String { String(format: "%.1f", Double(memory[key] as? Int ?? 0) / 1_048_576) }
            let state = (node["alive"] as? Bool ?? false) ? "" : " (retired)"
            let label = "\(id)\(state)  [\(packages.isEmpty ? "runtime only" : packages.joined(separator: ", "))]  "
                + "pid \(node["pid"] as? Int ?? 0), private \(mib("private")) MiB, shared \(mib("shared")) MiB, "
                + "charged \(mib("charged")) MiB, hits \(node["hits"] as? Int ?? 0), "
                + String(format: "age %.0f s", node["age_s"] as? Double ?? 0)
            lines.append(top ? label : prefix + (last ? "└─ " : "├─ ") + label)
            let children = ((node["children"] as? [String]) ?? []).compactMap { byID[$0] }
            for (index, child) in children.enumerated() {
                visit(child, prefix: top ? "" : prefix + (last ? "   " : "│  "), last: index == children.count - 1, top: false)
            }
        }
        for root in roots { visit(root, prefix: "", last: true, top: true) }
        return lines
    }
}
