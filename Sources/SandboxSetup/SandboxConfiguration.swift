/// Everything the sandbox helper needs to build one container, passed on its command line.
///
/// Foundation-free on purpose: the helper is a small single-threaded process that forks.
public struct SandboxConfiguration: Equatable, Sendable {
    /// A bind mount of a host path into the sandbox, read-only unless `writable`.
    public struct Bind: Equatable, Sendable {
        public var source: String
        public var target: String
        public var writable: Bool
        public init(source: String, target: String, writable: Bool = false) {
            self.source = source
            self.target = target
            self.writable = writable
        }
    }

    /// A symbolic link created inside the sandbox root.
    public struct Link: Equatable, Sendable {
        public var path: String
        public var destination: String
        public init(path: String, destination: String) {
            self.path = path
            self.destination = destination
        }
    }

    /// `none`: loopback only. `outbound`: a private namespace with user-mode networking (slirp4netns) that
    /// cannot reach the host. `host`: the host's own network namespace.
    /// How a sandbox of the import cache is placed in the user-namespace tree, and what runs in it.
    public struct UserNamespaceSetup: Equatable, Sendable {
        public enum Occupant: String, Equatable, Sendable {
            /// Hold the namespaces and report them; a zygote forks the occupant in later.
            case hold
            /// Run `command` as root of the sandbox's user namespace (a root zygote).
            case zygote
        }

        /// One line of a `uid_map`/`gid_map`: `count` ids from `inside` map to `outside` in the parent namespace.
        public struct IDMapping: Equatable, Sendable {
            public var inside: UInt32
            public var outside: UInt32
            public var count: UInt32
            public init(inside: UInt32, outside: UInt32, count: UInt32) {
                self.inside = inside
                self.outside = outside
                self.count = count
            }
        }

        public var occupant: Occupant
        /// Join the user and pid namespaces passed as fds 6 and 7 (a zygote's) before creating the sandbox's.
        public var joinOwner: Bool
        /// Create a new user namespace (nested in the owner's, or in the host's) with these mappings; empty keeps
        /// the owner's user namespace.
        public var newMappings: [IDMapping]

        public init(occupant: Occupant, joinOwner: Bool, newMappings: [IDMapping]) {
            self.occupant = occupant
            self.joinOwner = joinOwner
            self.newMappings = newMappings
        }

        var mapText: String { newMappings.map { "\($0.inside) \($0.outside) \($0.count)\n" }.joined() }
    }

    public enum Network: String, Equatable, Sendable { case none, outbound, host }

    /// An empty host directory the new root is mounted on.
    public var rootDirectory: String = ""
    public var binds: [Bind] = []
    public var links: [Link] = []
    /// Paths inside the sandbox hidden behind an empty read-only tmpfs.
    public var masks: [String] = []
    public var tmpSizeMB: Int = 64
    public var hostname: String = "pipsqueak"
    public var uid: UInt32 = 65534
    public var gid: UInt32 = 65534
    public var network: Network = .none
    /// The unprivileged uid slirp4netns runs as for `outbound`; the worker's firewall rules match it.
    public var networkUID: UInt32 = 65534
    /// The slirp4netns executable for `outbound`.
    public var slirpPath: String = "/usr/bin/slirp4netns"
    /// cgroup `procs` files the helper writes its own pid into before it unshares.
    public var cgroupProcFiles: [String] = []
    /// Working directory of the handler process, inside the sandbox.
    public var workingDirectory: String = "/"
    public var maxOpenFiles: Int = 1024
    public var maxFileSizeMB: Int = 64
    public var environment: [String] = []
    /// The program and its arguments, run as the unprivileged user.
    public var command: [String] = []
    /// Set for the import cache's sandboxes, which live in user namespaces (see `UserNamespaceSandbox`).
    public var userNamespace: UserNamespaceSetup?

    public init() {}
}

extension SandboxConfiguration {
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingValue(String)
        case unknownOption(String)
        case invalid(String, String)
        case missing(String)

        public var description: String {
            switch self {
            case .missingValue(let option): "option \(option) needs a value"
            case .unknownOption(let option): "unknown option \(option)"
            case .invalid(let option, let value): "bad value '\(value)' for \(option)"
            case .missing(let what): "missing \(what)"
            }
        }
    }

    /// Encodes the configuration as helper arguments; `parse(arguments:)` is its inverse.
    public var arguments: [String] {
        var args = ["--root", rootDirectory]
        for bind in binds { args += [bind.writable ? "--bind-rw" : "--bind", "\(bind.source):\(bind.target)"] }
        for link in links { args += ["--link", "\(link.path):\(link.destination)"] }
        for mask in masks { args += ["--mask", mask] }
        args += ["--tmp-mb", String(tmpSizeMB), "--hostname", hostname]
        args += ["--uid", String(uid), "--gid", String(gid), "--network", network.rawValue]
        if network == .outbound { args += ["--net-uid", String(networkUID), "--slirp", slirpPath] }
        for file in cgroupProcFiles { args += ["--cgroup-procs", file] }
        args += ["--workdir", workingDirectory, "--nofile", String(maxOpenFiles), "--fsize-mb", String(maxFileSizeMB)]
        for variable in environment { args += ["--env", variable] }
        if let userNamespace {
            args += ["--userns-occupant", userNamespace.occupant.rawValue]
            if userNamespace.joinOwner { args.append("--join-owner") }
            if !userNamespace.newMappings.isEmpty {
                args += ["--new-userns", userNamespace.newMappings.map { "\($0.inside):\($0.outside):\($0.count)" }.joined(separator: ",")]
            }
        }
        args.append("--")
        args += command
        return args
    }

    public static func parse(arguments: [String]) throws(ParseError) -> SandboxConfiguration {
        var config = SandboxConfiguration()
        var index = 0
        func value(_ option: String) throws(ParseError) -> String {
            index += 1
            guard index < arguments.count else { throw .missingValue(option) }
            return arguments[index]
        }
        func number<T: FixedWidthInteger>(_ option: String) throws(ParseError) -> T {
            let text = try value(option)
            guard let parsed = T(text) else { throw .invalid(option, text) }
            return parsed
        }
        func pair(_ option: String) throws(ParseError) -> (String, String) {
            let text = try value(option)
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { throw .invalid(option, text) }
            return (String(text[..<colon]), String(text[text.index(after: colon)...]))
        }
        while index < arguments.count {
            let option = arguments[index]
            switch option {
            case "--root": config.rootDirectory = try value(option)
            case "--bind":
                let (source, target) = try pair(option)
                config.binds.append(Bind(source: source, target: target))
            case "--bind-rw":
                let (source, target) = try pair(option)
                config.binds.append(Bind(source: source, target: target, writable: true))
            case "--link":
                let (path, destination) = try pair(option)
                config.links.append(Link(path: path, destination: destination))
            case "--mask": config.masks.append(try value(option))
            case "--tmp-mb": config.tmpSizeMB = try number(option)
            case "--hostname": config.hostname = try value(option)
            case "--uid": config.uid = try number(option)
            case "--gid": config.gid = try number(option)
            case "--network":
                let text = try value(option)
                guard let network = Network(rawValue: text) else { throw .invalid(option, text) }
                config.network = network
            case "--net-uid": config.networkUID = try number(option)
            case "--slirp": config.slirpPath = try value(option)
            case "--cgroup-procs": config.cgroupProcFiles.append(try value(option))
            case "--workdir": config.workingDirectory = try value(option)
            case "--nofile": config.maxOpenFiles = try number(option)
            case "--fsize-mb": config.maxFileSizeMB = try number(option)
            case "--env": config.environment.append(try value(option))
            case "--userns-occupant":
                let text = try value(option)
                guard let occupant = UserNamespaceSetup.Occupant(rawValue: text) else { throw .invalid(option, text) }
                config.userNamespace = UserNamespaceSetup(occupant: occupant, joinOwner: config.userNamespace?.joinOwner ?? false,
                                                          newMappings: config.userNamespace?.newMappings ?? [])
            case "--join-owner":
                var setup = config.userNamespace ?? UserNamespaceSetup(occupant: .hold, joinOwner: true, newMappings: [])
                setup.joinOwner = true
                config.userNamespace = setup
            case "--new-userns":
                let text = try value(option)
                var mappings: [UserNamespaceSetup.IDMapping] = []
                for item in text.split(separator: ",") {
                    let parts = item.split(separator: ":").compactMap { UInt32($0) }
                    guard parts.count == 3, parts[2] > 0 else { throw .invalid(option, text) }
                    mappings.append(.init(inside: parts[0], outside: parts[1], count: parts[2]))
                }
                guard !mappings.isEmpty, mappings.count <= 64 else { throw .invalid(option, text) }
                var setup = config.userNamespace ?? UserNamespaceSetup(occupant: .hold, joinOwner: false, newMappings: [])
                setup.newMappings = mappings
                config.userNamespace = setup
            case "--":
                config.command = Array(arguments[(index + 1)...])
                index = arguments.count
                continue
            default: throw .unknownOption(option)
            }
            index += 1
        }
        guard !config.rootDirectory.isEmpty else { throw .missing("--root") }
        guard !config.command.isEmpty else { throw .missing("command after --") }
        guard config.uid != 0, config.gid != 0 else { throw .invalid("--uid/--gid", "0") }
        guard config.networkUID != 0 else { throw .invalid("--net-uid", "0") }
        if config.userNamespace != nil {
            guard config.network == .none else { throw .invalid("--network", "\(config.network.rawValue) (user-namespace sandboxes have no network)") }
        }
        return config
    }
}
