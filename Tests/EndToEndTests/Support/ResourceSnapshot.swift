import Foundation

/// What a worker holds, read from `/proc` and `/sys`: the leak-free contract compares two of these.
struct ResourceSnapshot: Equatable, CustomStringConvertible {
    var openFiles: Int
    var childProcesses: Int
    var zombieChildren: Int
    var threads: Int
    var cgroups: Int
    var sandboxDirectories: Int
    var mountsUnderState: Int

    static func of(_ worker: WorkerProcess) -> ResourceSnapshot {
        let pid = worker.pid
        let children = childProcesses(of: pid)
        let state = worker.stateDirectory.path
        let mountinfo = (try? String(contentsOfFile: "/proc/\(pid)/mountinfo", encoding: .utf8)) ?? ""
        return ResourceSnapshot(
            openFiles: directoryCount("/proc/\(pid)/fd"),
            childProcesses: children.count,
            zombieChildren: children.filter { $0.state == "Z" }.count,
            threads: directoryCount("/proc/\(pid)/task"),
            cgroups: worker.sandboxCgroups().count,
            sandboxDirectories: directoryCount(worker.stateDirectory.appendingPathComponent("sandboxes").path),
            mountsUnderState: mountinfo.split(separator: "\n").filter { $0.contains(state) }.count)
    }

    /// Everything except threads, which a thread pool may grow lazily up to its fixed size.
    func sameHoldings(as other: ResourceSnapshot) -> Bool {
        var mine = self, theirs = other
        mine.threads = 0
        theirs.threads = 0
        return mine == theirs
    }

    var description: String {
        "fds \(openFiles), children \(childProcesses) (zombies \(zombieChildren)), threads \(threads), cgroups \(cgroups), "
            + "sandbox dirs \(sandboxDirectories), mounts \(mountsUnderState)"
    }

    private static func directoryCount(_ path: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).count
    }

    /// Direct children of `parent`, with their state letter from `/proc/PID/stat`.
    static func childProcesses(of parent: Int32) -> [(pid: Int32, state: String)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.compactMap { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == parent else { return nil }
            return (pid, String(fields[0]))
        }
    }
}
