import Foundation
import PipBench
import Synchronization

/// A single self-overwriting progress line on stderr, throttled to a few updates per second.
final class ProgressLine: Sendable {
    private let enabled: Bool
    private let lastPrint = Mutex<Double>(0)

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: GenerationProgress) {
        guard enabled else { return }
        let now = Date().timeIntervalSinceReferenceDate
        let due = lastPrint.withLock { last -> Bool in
            guard now - last >= 0.2 || p.packagesDone == p.packagesTotal else { return false }
            last = now
            return true
        }
        guard due else { return }
        let line = String(format: "\rgenerating: %d/%d packages, %d files, %.1f MB", p.packagesDone, p.packagesTotal,
                          p.filesWritten, Double(p.bytesWritten) / 1e6)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
