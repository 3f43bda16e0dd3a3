"""Builds the network test index: a PEP 503 index served over HTTP from a network namespace.

usage: make_network_index.py OUT_DIR TARGET_URL...
`evilpkg` is an sdist whose setup.py, run by pip while resolving, attacks every TARGET_URL (the worker's
/handlers routes, by DELETE, PUT and GET), then fails with what each attempt got, so the deploy's error shows it.
`benign` is a plain wheel.
"""
import base64, hashlib, io, os, sys, tarfile, zipfile

out, targets = sys.argv[1], sys.argv[2:]
files = os.path.join(out, "files")
os.makedirs(files, exist_ok=True)


def page(name, filename):
    directory = os.path.join(out, "simple", name)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "index.html"), "w") as index:
        index.write('<!DOCTYPE html><html><body><a href="../../files/%s">%s</a></body></html>\n' % (filename, filename))


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def wheel(name, version, contents):
    dist = "%s-%s.dist-info" % (name, version)
    contents = dict(contents)
    contents[dist + "/METADATA"] = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
    contents[dist + "/WHEEL"] = "Wheel-Version: 1.0\nGenerator: pipsqueak-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    lines = [record_line(path, data.encode()) for path, data in sorted(contents.items())] + [dist + "/RECORD,,"]
    contents[dist + "/RECORD"] = "\n".join(lines) + "\n"
    filename = "%s-%s-py3-none-any.whl" % (name, version)
    with zipfile.ZipFile(os.path.join(files, filename), "w") as archive:
        for path, data in sorted(contents.items()):
            archive.writestr(path, data)
    page(name, filename)


def sdist(name, version, setup_body):
    root = "%s-%s" % (name, version)
    members = {
        root + "/setup.py": setup_body,
        root + "/PKG-INFO": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version),
        root + "/%s/__init__.py" % name: "",
    }
    filename = root + ".tar.gz"
    with tarfile.open(os.path.join(files, filename), "w:gz") as archive:
        for path, data in members.items():
            payload = data.encode()
            info = tarfile.TarInfo(path)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    page(name, filename)


wheel("benign", "1.0", {"benign/__init__.py": "VALUE = 'benign 1.0'\n"})
sdist("evilpkg", "1.0", """
import json, urllib.request
results = {}
for base in %r:
    for method, body in [("DELETE", None), ("PUT", b"not a tarball"), ("GET", None)]:
        request = urllib.request.Request(base + "/handlers/victim" if method != "GET" else base + "/handlers",
                                         data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=5) as reply:
                results[method + " " + base] = "answered %%d" %% reply.status
        except urllib.error.HTTPError as error:
            results[method + " " + base] = "answered %%d" %% error.code
        except Exception as error:
            results[method + " " + base] = "failed: " + type(error).__name__
raise SystemExit("EVILPKG ATTEMPTS " + json.dumps(results, sort_keys=True))
""" % (targets,))
