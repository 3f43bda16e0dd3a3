#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PSShim

/// Builds a sandbox's root file system in the current (new, private) mount namespace and pivots into it.
public struct RootFilesystem {
    public let config: SandboxConfiguration

    public init(config: SandboxConfiguration) { self.config = config }

    private var root: String { config.rootDirectory }

    /// Must run inside a fresh mount namespace, and as pid 1 of a fresh pid namespace for `/proc`.
    public func build() throws(SetupError) {
        try prepareTree()
        try enter()
    }

    /// Everything but `/proc` and the pivot, as host root in a fresh mount namespace. A user-namespace sandbox does
    /// this before joining its user namespace: the files it binds are not readable by the namespace's root.
    public func prepareTree() throws(SetupError) {
        try check(mount(nil, "/", nil, UInt(MS_REC | MS_SLAVE), nil), "make / a slave mount")
        try check(mount("tmpfs", root, "tmpfs", UInt(MS_NOSUID | MS_NODEV), "size=2m,mode=0755"), "mount root tmpfs on \(root)")
        for bind in config.binds { try bindMount(bind) }
        for link in config.links {
            try makeParents(of: link.path)
            try check(symlink(link.destination, root + link.path), "symlink \(link.path)")
        }
        for mask in config.masks {
            // Only mask paths that exist under a bound tree; a missing path needs no mask.
            guard isDirectory(root + mask) else { continue }
            try check(mount("tmpfs", root + mask, "tmpfs", UInt(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), "size=4k,mode=0555"),
                      "mask \(mask)")
        }
        try makeDirectory("/tmp", mode: 0o1777)
        try check(mount("tmpfs", root + "/tmp", "tmpfs", UInt(MS_NOSUID | MS_NODEV), "size=\(config.tmpSizeMB)m,mode=1777"),
                  "mount /tmp")
        try makeDirectory("/proc", mode: 0o555)
        try buildDev()
        try buildEtc()
    }

    /// Mounts `/proc` for the current pid namespace and pivots into the tree. Runs as pid 1 of the sandbox's pid
    /// namespace, in the sandbox's mount namespace (a copy of the one `prepareTree` ran in).
    ///
    /// In a mount namespace owned by a user namespace, the mounts copied from `prepareTree`'s namespace are locked
    /// and `pivot_root` refuses a locked new root; `rebind` first binds the tree onto itself, which makes a root
    /// mount of this namespace (its copied children stay locked beneath it, as they should).
    public func enter(rebind: Bool = false) throws(SetupError) {
        if rebind { try check(mount(root, root, nil, UInt(MS_BIND | MS_REC), nil), "bind the root onto itself") }
        try check(mount("proc", root + "/proc", "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil), "mount /proc")
        try pivot()
    }

    private func bindMount(_ bind: SandboxConfiguration.Bind) throws(SetupError) {
        var info = stat()
        try check(stat(bind.source, &info), "stat \(bind.source)")
        let target = root + bind.target
        if (info.st_mode & S_IFMT) == S_IFDIR {
            try makeParents(of: bind.target)
            try makeDirectoryIfMissing(target, mode: 0o755)
        } else {
            try makeParents(of: bind.target)
            try createEmptyFile(target)
        }
        try check(mount(bind.source, target, nil, UInt(MS_BIND), nil), "bind \(bind.source)")
        let readOnly = bind.writable ? 0 : MS_RDONLY
        try check(mount(nil, target, nil, UInt(MS_REMOUNT | MS_BIND | readOnly | MS_NOSUID | MS_NODEV), nil),
                  "remount \(bind.target)")
    }

    private func buildDev() throws(SetupError) {
        try makeDirectory("/dev", mode: 0o755)
        try check(mount("tmpfs", root + "/dev", "tmpfs", UInt(MS_NOSUID | MS_NOEXEC), "size=64k,mode=0755"), "mount /dev")
        for device in ["null", "zero", "full", "random", "urandom"] {
            let target = root + "/dev/" + device
            try createEmptyFile(target)
            try check(mount("/dev/" + device, target, nil, UInt(MS_BIND), nil), "bind /dev/\(device)")
        }
        for (name, destination) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                                    ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")] {
            try check(symlink(destination, root + "/dev/" + name), "symlink /dev/\(name)")
        }
        try makeDirectory("/dev/shm", mode: 0o1777)
        try check(mount("tmpfs", root + "/dev/shm", "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "size=\(config.tmpSizeMB)m,mode=1777"),
                  "mount /dev/shm")
        try check(mount(nil, root + "/dev", nil, UInt(MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC), nil), "remount /dev read-only")
    }

    private func buildEtc() throws(SetupError) {
        try makeDirectoryIfMissing(root + "/etc", mode: 0o755)
        try writeFile("/etc/passwd", "root:x:0:0::/:/usr/sbin/nologin\nsandbox:x:\(config.uid):\(config.gid)::/tmp:/usr/sbin/nologin\n")
        try writeFile("/etc/group", "root:x:0:\nsandbox:x:\(config.gid):\n")
        try writeFile("/etc/hostname", config.hostname + "\n")
        try writeFile("/etc/hosts", "127.0.0.1\tlocalhost \(config.hostname)\n::1\tlocalhost\n")
        try writeFile("/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n")
        switch config.network {
        case .host:
            if let resolv = readFile("/etc/resolv.conf") { try writeFile("/etc/resolv.conf", resolv) }
        case .outbound:
            try writeFile("/etc/resolv.conf", "nameserver \(OutboundNetwork.dnsAddress)\n")
        case .none:
            break
        }
    }

    private func pivot() throws(SetupError) {
        try check(chdir(root), "chdir \(root)")
        try check(ps_pivot_root(".", "."), "pivot_root")
        try check(umount2(".", Int32(MNT_DETACH)), "detach old root")
        try check(chdir("/"), "chdir /")
        try check(mount(nil, "/", nil, UInt(MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV), nil), "remount / read-only")
        try check(sethostname(config.hostname, config.hostname.utf8.count), "sethostname")
    }

    // MARK: small file helpers

    private func makeParents(of path: String) throws(SetupError) {
        var current = root
        let components = path.split(separator: "/").dropLast()
        for component in components {
            current += "/" + component
            try makeDirectoryIfMissing(current, mode: 0o755)
        }
    }

    private func makeDirectory(_ path: String, mode: mode_t) throws(SetupError) {
        try makeDirectoryIfMissing(root + path, mode: mode)
    }

    private func makeDirectoryIfMissing(_ path: String, mode: mode_t) throws(SetupError) {
        if mkdir(path, mode) < 0 && errno != EEXIST { throw SetupError("mkdir \(path)") }
        _ = chmod(path, mode)
    }

    private func createEmptyFile(_ path: String) throws(SetupError) {
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        if fd < 0 { throw SetupError("create \(path)") }
        close(fd)
    }

    private func writeFile(_ path: String, _ contents: String) throws(SetupError) {
        try writeText(contents, to: root + path, flags: O_CREAT | O_TRUNC)
    }

    private func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}

/// Writes `text` to `path` with one `write`, as cgroup and small config files need.
func writeText(_ text: String, to path: String, flags: Int32 = 0) throws(SetupError) {
    let fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0o644)
    if fd < 0 { throw SetupError("open \(path)") }
    defer { close(fd) }
    var bytes = Array(text.utf8)
    let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
    if written != bytes.count { throw SetupError("write \(path)") }
}

/// Reads a small host file, or nil if it cannot be read.
func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
