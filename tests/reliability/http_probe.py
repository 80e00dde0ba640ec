"""Raw HTTP probes against a real bot process: bodies that never end, connections that never speak."""
from __future__ import annotations

import select
import socket
import time
from pathlib import Path

CHUNK = b"a" * 65536


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's resident memory in MB: its peak so far (VmHWM), or now (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no {field}")


def post_streaming(port: int, size: int, *, chunked: bool = False, timeout: float = 30.0) -> tuple[int | None, int]:
    """POST /slack/events declaring `size` bytes (or chunked), unsigned, streaming until the server answers or
    hangs up; returns (the answer's status or None, bytes of body sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = "POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n"
    sock.sendall(head.encode() + b"\r\n")
    sent, deadline = 0, time.monotonic() + timeout
    try:
        while sent < size and time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the server answered (or hung up) before the body ended
            piece = CHUNK[: size - sent]
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
        if chunked and sent >= size:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # hung up on us mid-body: read what it said
    return _status(sock), sent


def _status(sock: socket.socket) -> int | None:
    try:
        data = sock.recv(4096)
    except (ConnectionResetError, TimeoutError, OSError):
        data = b""
    finally:
        sock.close()
    line = data.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[1].isdigit() else None


def half_open(port: int, n: int) -> list[socket.socket]:
    """`n` connections that send half a request's headers and then nothing (a slow or dead client)."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n")
        socks.append(s)
    return socks


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed this connection (a read returns EOF or a reset)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionResetError, OSError):
        return True
