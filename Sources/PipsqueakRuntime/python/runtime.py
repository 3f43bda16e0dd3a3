"""Pipsqueak's in-sandbox Python runtime.

Loads one handler once, then serves events over the runtime socket (fd 3) until the worker closes it.
Frames are a 4-byte big-endian length followed by a one-byte kind and a payload:

  runtime -> worker  K ready {"pid"}       I init error {"type","message","traceback"}
  worker -> runtime  G go: a forked runtime may load its handler (sent once, see zygote.py)
  zygote -> worker   X exited {"status"}: a forked runtime died (sent by its zygote, which reaps it)
                     O result (JSON)       E handler error {"type","message","traceback"}
  worker -> runtime  R request: meta JSON line {"id","timeout_ms"}, "\\n", then the event JSON
"""
import json
import os
import sys
import time
import traceback
from socket import socket

RUNTIME_FD = 3
_loads = json.loads
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_monotonic = time.monotonic


class Context:
    """The AWS Lambda-style context passed as the second argument to two-parameter handlers."""

    __slots__ = ("function_name", "function_version", "invoked_function_arn", "memory_limit_in_mb",
                 "aws_request_id", "log_group_name", "log_stream_name", "_deadline")

    def __init__(self, function_name, memory_mb):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = "arn:pipsqueak:function:" + function_name
        self.memory_limit_in_mb = memory_mb
        self.log_group_name = "/pipsqueak/" + function_name
        self.log_stream_name = function_name
        self.aws_request_id = ""
        self._deadline = 0.0

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - _monotonic()) * 1000))


def _error_payload(exc):
    return _dumps({
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }).encode()


def _frame(kind, payload):
    return (len(payload) + 1).to_bytes(4, "big") + kind + payload


def _parse_args(argv):
    options = {"entry": "f.f", "name": "handler", "memory-mb": "0", "code": "/handler", "path": []}
    index = 0
    while index < len(argv):
        key = argv[index][2:]
        value = argv[index + 1]
        if key == "path":
            options["path"].append(value)
        else:
            options[key] = value
        index += 2
    return options


def load_handler(options):
    """Imports the entry module and returns (callable, wants_context)."""
    sys.path[:0] = [options["code"]] + options["path"]
    module_name, _, function_name = options["entry"].rpartition(".")
    module = __import__(module_name, fromlist=["_"])
    function = getattr(module, function_name, None)
    if function is None or not callable(function):
        raise AttributeError("entry %s: module %s has no function %s" % (options["entry"], module_name, function_name))
    code = getattr(function, "__code__", None)
    argcount = code.co_argcount if code is not None else 1
    if getattr(function, "__self__", None) is not None:
        argcount -= 1
    return function, function_name == "lambda_handler" or argcount >= 2


def serve(sock, function, wants_context, context):
    recv_into = sock.recv_into
    sendall = sock.sendall
    buffer = bytearray(1 << 16)
    pending = bytearray()
    while True:
        # Read one frame; usually a single recv returns it whole.
        while len(pending) < 4 or len(pending) < 4 + int.from_bytes(pending[:4], "big"):
            count = recv_into(buffer)
            if count == 0:
                return
            pending += buffer[:count]
        length = int.from_bytes(pending[:4], "big")
        frame = bytes(pending[4:4 + length])
        del pending[:4 + length]
        if frame[:1] != b"R":
            continue
        newline = frame.index(b"\n")
        meta = _loads(frame[1:newline])
        try:
            event = _loads(frame[newline + 1:])
            if wants_context:
                context.aws_request_id = meta["id"]
                context._deadline = _monotonic() + meta["timeout_ms"] / 1000.0
                result = function(event, context)
            else:
                result = function(event)
            reply = b"O" + _dumps(result).encode()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - everything a handler raises, SystemExit too, is reported
            reply = b"E" + _error_payload(exc)
        sendall(len(reply).to_bytes(4, "big") + reply)


def run(sock, options):
    """Loads the handler and serves events on `sock` until the worker closes it."""
    try:
        function, wants_context = load_handler(options)
    except BaseException as exc:  # noqa: BLE001 - broken handler code is reported, not fatal to the worker
        sock.sendall(_frame(b"I", _error_payload(exc)))
        return
    context = Context(options["name"], int(options["memory-mb"]))
    sock.sendall(_frame(b"K", _dumps({"pid": os.getpid()}).encode()))
    serve(sock, function, wants_context, context)


def main():
    run(socket(fileno=RUNTIME_FD), _parse_args(sys.argv[1:]))


if __name__ == "__main__":
    main()
