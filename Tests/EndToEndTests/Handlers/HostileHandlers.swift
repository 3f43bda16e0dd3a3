/// Python handlers used by the end-to-end tests. The hostile ones try to escape; the tests assert they fail.
enum Handlers {
    static let echo = """
        def f(event):
            return {"echo": event}
        """

    /// Probes its own sandbox from the inside and reports what it could do.
    static let probe = #"""
        import ctypes, os, socket

        libc = ctypes.CDLL(None, use_errno=True)

        def attempt(action):
            try:
                action()
                return "allowed"
            except Exception as error:
                return type(error).__name__

        def errno_of(result):
            return 0 if result == 0 else ctypes.get_errno()

        def status_field(name):
            for line in open("/proc/self/status"):
                if line.startswith(name + ":"):
                    return line.split()[1]

        def f(event):
            return {
                "uid": os.getuid(),
                "read_root_home": attempt(lambda: os.listdir("/root")),
                "read_state_dir": attempt(lambda: os.listdir(event["state_dir"])),
                "read_other_code": attempt(lambda: open(event["other_code"]).read()),
                "handler_files": sorted(os.listdir("/handler")),
                "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
                "write_usr": attempt(lambda: open("/usr/pwned", "w")),
                "write_root": attempt(lambda: open("/pwned", "w")),
                "write_etc": attempt(lambda: open("/etc/passwd", "a")),
                "write_handler": attempt(lambda: open("/handler/pwned", "w")),
                "write_tmp": attempt(lambda: open("/tmp/ok", "w").write("ok")),
                "cap_eff": status_field("CapEff"),
                "cap_bnd": status_field("CapBnd"),
                "no_new_privs": status_field("NoNewPrivs"),
                "seccomp": status_field("Seccomp"),
                "mount_errno": errno_of(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
                "unshare_user_errno": errno_of(libc.unshare(0x10000000)),
                "setns_errno": errno_of(libc.setns(0, 0)),
                "ptrace_errno": errno_of(libc.ptrace(16, 1, None, None)),
                "kill_worker": attempt(lambda: os.kill(event["worker_pid"], 9)),
                "kill_init": attempt(lambda: os.kill(1, 9)),
                "network": attempt(lambda: socket.create_connection(("1.1.1.1", 53), timeout=1)),
                "dist_packages": sorted(os.listdir("/usr/lib/python3/dist-packages"))
                    if os.path.isdir("/usr/lib/python3/dist-packages") else [],
                "import_system_package": attempt(lambda: __import__("yaml")),
            }
        """#

    static let forkBomb = """
        import os, time

        def f(event):
            children = 0
            try:
                for _ in range(100000):
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                    children += 1
            except OSError as error:
                return {"children": children, "error": error.strerror}
            return {"children": children, "error": None}
        """

    static let memoryBomb = """
        def f(event):
            hoard = []
            while True:
                hoard.append(bytearray(8 << 20))
        """

    static let diskFiller = """
        def f(event):
            written = 0
            try:
                with open("/tmp/fill", "wb") as out:
                    while written < (1 << 30):
                        out.write(b"x" * (1 << 20))
                        written += 1 << 20
            except OSError as error:
                return {"written_mb": written >> 20, "error": error.strerror}
            return {"written_mb": written >> 20, "error": None}
        """

    static let sleeper = """
        import time

        def f(event):
            time.sleep(event.get("seconds", 5))
            return {"slept": event.get("seconds", 5)}
        """

    static let crasher = """
        import os

        def f(event):
            os._exit(3)
        """

    static let raiser = """
        def f(event):
            raise ValueError("bad input: " + str(event))
        """

    static let awsStyle = """
        def lambda_handler(event, context):
            return {
                "function_name": context.function_name,
                "request_id": context.aws_request_id,
                "remaining_ms": context.get_remaining_time_in_millis(),
                "event": event,
            }
        """
}
