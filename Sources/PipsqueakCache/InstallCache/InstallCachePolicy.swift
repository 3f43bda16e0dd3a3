import Foundation
import PipsqueakCore

/// The install cache's eviction rule, as a pure function.
public enum InstallCachePolicy {
    /// Least-recently-used distributions not in use, until the total fits `budgetBytes`.
    public static func evictions(_ packages: [(ref: PackageRef, lastUsed: Date, bytes: Int64)], inUse: Set<PackageRef>,
                                 budgetBytes: Int64) -> [PackageRef] {
        var total = packages.reduce(Int64(0)) { $0 + $1.bytes }
        var victims: [PackageRef] = []
        for package in packages.filter({ !inUse.contains($0.ref) }).sorted(by: { ($0.lastUsed, $0.ref) < ($1.lastUsed, $1.ref) }) {
            if total <= budgetBytes { break }
            victims.append(package.ref)
            total -= package.bytes
        }
        return victims
    }
}
