import SandboxSetup

/// The ids a zygote's user namespace maps: its root, the handler uids it serves, and a pool for child zygotes.
///
/// Each zygote gets its own host id range, so no two subtrees share a host uid (processes sharing one could
/// signal or trace each other across user namespaces). Inside every zygote's namespace, handlers keep the uid
/// numbers they have in fresh sandboxes (`sandbox_uid_base` + a hash of the name), and child zygotes' ranges are
/// carved from `childPoolStart` on, a sixteenth of the range each, so the tree can be four levels deep.
public struct ZygoteIDRange: Sendable, Equatable {
    /// Ids of the parent namespace (host ids for the root zygote) this range starts at.
    public let start: UInt32
    public let size: UInt32

    public static let handlerIDCount: UInt32 = 60_000
    /// Where child zygotes' ranges begin, in a zygote's own ids; above every handler uid.
    public static let childPoolStart: UInt32 = 1 << 20
    static let reserved: UInt32 = 1 << 16
    /// The root zygote's host range.
    public static let root = ZygoteIDRange(start: 1 << 28, size: 1 << 28)

    public init(start: UInt32, size: UInt32) {
        self.start = start
        self.size = size
    }

    /// Lines of the zygote's `uid_map` and `gid_map`, in its parent's ids.
    public func mappings(handlerBase: UInt32) -> [SandboxConfiguration.UserNamespaceSetup.IDMapping] {
        var lines: [SandboxConfiguration.UserNamespaceSetup.IDMapping] = [
            .init(inside: 0, outside: start, count: 1),
            .init(inside: handlerBase, outside: start + 1, count: Self.handlerIDCount),
        ]
        if size > Self.reserved {
            lines.append(.init(inside: Self.childPoolStart, outside: start + Self.reserved, count: size - Self.reserved))
        }
        return lines
    }

    /// How many child zygotes fit.
    public var childCapacity: Int {
        let childSize = size / 16
        guard childSize >= Self.reserved else { return 0 }
        return Int((size - Self.reserved) / childSize)
    }

    /// The range of child number `index`, in this zygote's own ids; nil if it does not fit.
    public func child(_ index: Int) -> ZygoteIDRange? {
        guard index >= 0, index < childCapacity else { return nil }
        let childSize = size / 16
        return ZygoteIDRange(start: Self.childPoolStart + UInt32(index) * childSize, size: childSize)
    }

    /// Whether handler uids from `base` fit below the child pool.
    public static func fits(handlerBase: UInt32) -> Bool {
        handlerBase >= 1 && UInt64(handlerBase) + UInt64(handlerIDCount) <= UInt64(childPoolStart)
    }
}
