import Foundation
import PipsqueakCache
import PipsqueakCore
import Testing

@Suite struct InstallCachePolicyTests {
    let a = PackageRef(name: "a", version: "1"), b = PackageRef(name: "b", version: "1"), c = PackageRef(name: "c", version: "1")

    func packages() -> [(ref: PackageRef, lastUsed: Date, bytes: Int64)] {
        [(a, Date(timeIntervalSince1970: 30), 10), (b, Date(timeIntervalSince1970: 10), 10), (c, Date(timeIntervalSince1970: 20), 10)]
    }

    @Test func evictsLeastRecentlyUsedFirst() {
        #expect(InstallCachePolicy.evictions(packages(), inUse: [], budgetBytes: 30) == [])
        #expect(InstallCachePolicy.evictions(packages(), inUse: [], budgetBytes: 20) == [b])
        #expect(InstallCachePolicy.evictions(packages(), inUse: [], budgetBytes: 5) == [b, c, a])
    }

    @Test func neverEvictsPackagesInUse() {
        #expect(InstallCachePolicy.evictions(packages(), inUse: [b], budgetBytes: 20) == [c])
        #expect(InstallCachePolicy.evictions(packages(), inUse: [a, b, c], budgetBytes: 0) == [])
    }
}
