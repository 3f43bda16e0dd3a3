"""Builds the install-cache test index: hand-made wheels and sdists with known dependencies and behaviour.

usage: make_index.py OUT_DIR HOST_MARKER_PATH
Writes OUT_DIR/links (wheels and sdists, for --find-links) and OUT_DIR/simple (an empty PEP 503 index).
"""
import base64, hashlib, io, os, sys, tarfile, zipfile

out, marker = sys.argv[1], sys.argv[2]
links = os.path.join(out, "links")
os.makedirs(links, exist_ok=True)
os.makedirs(os.path.join(out, "simple"), exist_ok=True)
with open(os.path.join(out, "simple", "index.html"), "w") as index:
    index.write("<!DOCTYPE html><html><body></body></html>\n")


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def wheel(name, version, files, requires=()):
    dist = "%s-%s.dist-info" % (name, version)
    metadata = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
    metadata += "".join("Requires-Dist: %s\n" % r for r in requires)
    contents = dict(files)
    contents[dist + "/METADATA"] = metadata
    contents[dist + "/WHEEL"] = "Wheel-Version: 1.0\nGenerator: pipsqueak-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    contents[dist + "/top_level.txt"] = name + "\n"
    lines = [record_line(path, data.encode()) for path, data in sorted(contents.items())]
    lines.append(dist + "/RECORD,,")
    contents[dist + "/RECORD"] = "\n".join(lines) + "\n"
    with zipfile.ZipFile(os.path.join(links, "%s-%s-py3-none-any.whl" % (name, version)), "w") as archive:
        for path, data in sorted(contents.items()):
            archive.writestr(path, data)


def sdist(name, version, setup_body):
    root = "%s-%s" % (name, version)
    files = {
        root + "/setup.py": setup_body,
        root + "/PKG-INFO": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version),
        root + "/%s/__init__.py" % name: "VERSION = %r\n" % version,
    }
    with tarfile.open(os.path.join(links, root + ".tar.gz"), "w:gz") as archive:
        for path, data in files.items():
            payload = data.encode()
            info = tarfile.TarInfo(path)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))


wheel("beta", "1.0", {"beta/__init__.py": "VERSION = '1.0'\n"})
wheel("beta", "2.0", {"beta/__init__.py": "VERSION = '2.0'\n"})
wheel("alpha", "1.0", {"alpha/__init__.py": "import beta\nVALUE = 'alpha sees beta ' + beta.VERSION\n"}, requires=["beta"])
wheel("gamma", "1.0", {"gamma/__init__.py": "import beta\nVALUE = beta.VERSION\n"}, requires=["beta==2.0"])
wheel("Delta_Pkg", "3.1", {"delta_pkg/__init__.py": "NAME = 'delta'\n"})

plain_setup = "from setuptools import setup\nsetup(name=%r, version=%r, packages=[%r])\n"
sdist("broken", "1.0", "raise SystemExit('broken: this build script always fails')\n")
sdist("slowpoke", "1.0", "import time\ntime.sleep(6)\n" + plain_setup % ("slowpoke", "1.0", "slowpoke"))
sdist("evil", "1.0", """
import os
attempts = {}
for path in [%r, "/usr/evil-marker", "/etc/evil-marker", "/evil-marker", "/handler/evil-marker"]:
    try:
        with open(path, "w") as target:
            target.write("pwned")
        attempts[path] = "written"
    except OSError as error:
        attempts[path] = error.strerror
print("EVIL ATTEMPTS", attempts)
from setuptools import setup
setup(name="evil", version="1.0", packages=["evil"])
""" % marker)

# For the import cache: a package slow to import (the tree grows for it), one that holds memory once imported
# (eviction), and one that attacks from inside a zygote at import time.
wheel("slowimport", "1.0", {"slowimport/__init__.py": "import time\ntime.sleep(0.15)\nVALUE = 'slow'\n"})
wheel("bigimport", "1.0", {"bigimport/__init__.py":
                           "import time\ntime.sleep(0.12)\nBALLAST = bytearray(24 << 20)\n"
                           "for _i in range(0, len(BALLAST), 4096):\n    BALLAST[_i] = 1\nVALUE = 'big'\n"})
secret = sys.argv[3] if len(sys.argv) > 3 else "/nonexistent"
wheel("evilzyg", "1.0", {"evilzyg/__init__.py": """
import builtins, ctypes, json, os, time
libc = ctypes.CDLL(None, use_errno=True)
RESULTS = {}
def attempt(name, action):
    try:
        action()
        RESULTS[name] = "allowed"
    except Exception as error:
        RESULTS[name] = type(error).__name__
def errno_of(name, result):
    RESULTS[name] = 0 if result == 0 else ctypes.get_errno()
attempt("read_host_secret", lambda: open(%r).read())
attempt("write_usr", lambda: open("/usr/evil-from-zygote", "w"))
errno_of("mount", libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
errno_of("unshare_user", libc.unshare(0x10000000))
errno_of("ptrace", libc.ptrace(16, 1, None, None))
RESULTS["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
# Try to persist into handlers that do not depend on this package.
builtins.EVIL_WAS_HERE = True
json.dumps = lambda *args, **kwargs: '"poisoned"'
with open("/tmp/evil-persist", "w") as marker:
    marker.write("zygote state")
time.sleep(0.12)
VALUE = "evil"
""" % secret})
