"""Pipsqueak's zygote: a sleeping interpreter with packages imported, which forks handler runtimes.

A zygote runs as root of its own user namespace (unprivileged on the host) in a sandbox of its own, with only
its packages mounted. The worker talks to it over a SOCK_SEQPACKET socket on fd 3; every message is JSON, and
namespaces and sockets travel with it as SCM_RIGHTS:

  worker -> zygote  {"op": "handler", "spec": {...}}  fds: mnt ipc uts net pid runtime-socket log
                    {"op": "zygote", "spec": {...}}   fds: user mnt ipc uts net pid control-socket
  zygote -> worker  {"ready": true, "pid", "seconds", "failed"} once its imports are done
                    {"pid": N} with a pidfd of the forked child, or {"error": "..."}
  zygote -> runtime socket  X {"status"} when a handler child exits (the zygote is its parent and reaps it)

A handler child joins the handler's namespaces (prepared by the worker inside this zygote's user namespace; a
zygote elsewhere in the tree is refused by the kernel), waits for the worker to move it into the handler's
cgroup ("G" frame), drops to the handler's uid with no capabilities, no_new_privs and the handler seccomp
filter, and only then imports the handler's code, as `runtime.py` does in a fresh sandbox.
A zygote child joins a new zygote's user namespace and sandbox, waits for its cgroup move, imports more
packages and serves like its parent. Stdlib only.
"""
import ctypes
import gc
import json
import os
import resource
import signal
import socket
import sys
import time

CONTROL_FD = 3
RUNTIME_FD = 3
NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET = 0x20000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAP_AMBIENT = 24, 38, 22, 47
PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER = 4, 2
MAX_FDS = 16

# Bound now, before any package is imported: package code may replace json.dumps or socket.send_fds in this
# interpreter, and must not break (or steer) the zygote's own protocol that way.
_encode = json.JSONEncoder().encode
_decode = json.JSONDecoder().decode
_send_fds = socket.send_fds
_recv_fds = socket.recv_fds
libc = ctypes.CDLL(None, use_errno=True)
libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, "%s: %s" % (what, os.strerror(error)))


def setns(fd, kind, what):
    _check(libc.setns(fd, kind), "setns " + what)


def prctl(option, arg=0, what="prctl"):
    _check(libc.prctl(option, arg, 0, 0, 0), what)


def receive(control):
    """One message and its descriptors; (None, []) at end of stream."""
    message, fds, _, _ = _recv_fds(control, 1 << 16, MAX_FDS)
    if not message:
        for fd in fds:
            os.close(fd)
        return None, []
    return _decode(message.decode()), fds


def reply(control, payload, fds=()):
    _send_fds(control, [_encode(payload).encode()], list(fds))


# Handler children: pid -> a copy of their runtime socket, to tell the worker how they ended ("X" frame).
_runtime_sockets = {}


def reap(_signum, _frame):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = _runtime_sockets.pop(pid, None)
        if fd is None:
            continue
        code = os.waitstatus_to_exitcode(status)
        payload = b"X" + _encode({"status": code if code >= 0 else 128 - code}).encode()
        try:
            os.write(fd, len(payload).to_bytes(4, "big") + payload)
        except OSError:
            pass
        os.close(fd)


# MARK: the handler child

def read_frame(sock):
    data = b""
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        chunk = sock.recv(1 << 16)
        if not chunk:
            os._exit(0)
        data += chunk
    return data[4:4 + int.from_bytes(data[:4], "big")]


def drop_privileges(spec):
    """The same steps, in the same order, as the sandbox helper's before it execs a fresh handler."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (spec["nofile"], spec["nofile"]))
    fsize = spec["fsize_mb"] << 20
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            break
    if os.getgroups():
        raise OSError("supplementary groups present")
    os.setresgid(spec["gid"], spec["gid"], spec["gid"])
    os.setresuid(spec["uid"], spec["uid"], spec["uid"])
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, "clear ambient capabilities")
    prctl(PR_SET_NO_NEW_PRIVS, 1, "no_new_privs")
    program = bytes.fromhex(spec["seccomp"])
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    _check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "install seccomp filter")


def reseed():
    """A fork shares its parent's random state; handlers must not share sequences."""
    if "random" in sys.modules:
        sys.modules["random"].seed()
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None and hasattr(numpy_random, "seed"):
        numpy_random.seed()


def become_handler(fds, spec):
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in _runtime_sockets.values():
            os.close(fd)
        _runtime_sockets.clear()
        for fd, kind, name in zip(fds[:4], (NEWNS, NEWIPC, NEWUTS, NEWNET), ("mnt", "ipc", "uts", "net")):
            setns(fd, kind, name)
        os.dup2(fds[5], RUNTIME_FD)
        os.dup2(fds[6], 1)
        os.dup2(fds[6], 2)
        os.closerange(RUNTIME_FD + 1, 1 << 16)
        os.chdir("/")
        sock = socket.socket(fileno=RUNTIME_FD)
        if read_frame(sock) != b"G":
            os._exit(71)
        drop_privileges(spec)
        os.environ.clear()
        os.environ.update(spec["env"])
        try:
            os.chdir(spec["workdir"])
        except OSError:
            os.chdir("/")
        reseed()
        import runtime
        runtime.run(sock, spec["options"])
    except BaseException as error:  # noqa: BLE001 - a child must never return into the zygote's loop
        try:
            os.write(2, ("zygote child: %r\n" % (error,)).encode())
        finally:
            os._exit(70)
    os._exit(0)


# MARK: a child zygote

def become_zygote(fds, spec):
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd, kind, name in zip(fds[1:5], (NEWNS, NEWIPC, NEWUTS, NEWNET), ("mnt", "ipc", "uts", "net")):
            setns(fd, kind, name)
        setns(fds[0], NEWUSER, "user")
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
        os.dup2(fds[6], CONTROL_FD)
        os.closerange(CONTROL_FD + 1, 1 << 16)
        _runtime_sockets.clear()
        os.chdir("/")
        control = socket.socket(fileno=CONTROL_FD)
        message, extra = receive(control)
        for fd in extra:
            os.close(fd)
        if message is None or message.get("op") != "go":
            os._exit(0)
        serve(control, spec)
    except BaseException as error:  # noqa: BLE001
        try:
            os.write(2, ("zygote child: %r\n" % (error,)).encode())
        finally:
            os._exit(70)
    os._exit(0)


# MARK: the zygote

def fork_into(control, fds, own_pid_namespace, pid_namespace, child, keep=None):
    """Forks with the new process in `pid_namespace`, then returns to our own; replies with a pidfd of it.
    `keep`, a descriptor, is kept (a copy) until the child exits, to report how it ended."""
    try:
        setns(pid_namespace, NEWPID, "pid_for_children")
    except OSError as error:
        reply(control, {"error": str(error)})
        return
    try:
        pid = os.fork()
    except OSError as error:
        setns(own_pid_namespace, NEWPID, "own pid namespace")
        reply(control, {"error": "fork: " + str(error)})
        return
    if pid == 0:
        child()
    setns(own_pid_namespace, NEWPID, "own pid namespace")
    if keep is not None:
        _runtime_sockets[pid] = os.dup(keep)
    pidfd = os.pidfd_open(pid)
    try:
        reply(control, {"pid": pid}, [pidfd])
    finally:
        os.close(pidfd)


def serve(control, spec):
    sys.path[:0] = [path for path in spec.get("paths", []) if path not in sys.path]
    started = time.perf_counter()
    failed = {}
    for name in spec.get("imports", []):
        try:
            __import__(name)
        except BaseException as error:  # noqa: BLE001 - reported to the worker, which will not use this zygote
            failed[name] = "%s: %s" % (type(error).__name__, error)
    seconds = time.perf_counter() - started
    own_pid_namespace = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    signal.signal(signal.SIGCHLD, reap)
    gc.collect()
    gc.freeze()
    reply(control, {"ready": True, "pid": os.getpid(), "seconds": seconds, "failed": failed})
    while True:
        message, fds = receive(control)
        if message is None:
            os._exit(0)
        try:
            op, child_spec = message.get("op"), message.get("spec", {})
            if op == "handler" and len(fds) == 7:
                fork_into(control, fds, own_pid_namespace, fds[4], lambda: become_handler(fds, child_spec), keep=fds[5])
            elif op == "zygote" and len(fds) == 7:
                fork_into(control, fds, own_pid_namespace, fds[5], lambda: become_zygote(fds, child_spec))
            else:
                reply(control, {"error": "bad request %r with %d descriptors" % (op, len(fds))})
        finally:
            for fd in fds:
                os.close(fd)


def main():
    paths, imports = [], []
    arguments = sys.argv[1:]
    for index in range(0, len(arguments) - 1, 2):
        if arguments[index] == "--path":
            paths.append(arguments[index + 1])
        elif arguments[index] == "--import":
            imports.append(arguments[index + 1])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import runtime  # noqa: F401 - imported once here, shared by every handler forked later
    serve(socket.socket(fileno=CONTROL_FD), {"paths": paths, "imports": imports})


if __name__ == "__main__":
    main()
