# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Fault helpers for the resilience tests, all on loopback and bounded in time:
# a port that refuses connections, an HTTP CONNECT proxy that records the
# tunnels it made, and an HTTP server that dribbles its answer slowly (just
# above libcurl's low-speed limit) so that only a total time limit ends it.

import socket
import threading
import time


def refused_url(path="/dir"):
    """An https url on a loopback port where nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return "https://127.0.0.1:%d%s" % (port, path)


class _Server:
    """A listening socket on 127.0.0.1 served by daemon threads until stop()."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            threading.Thread(target=self._guarded, args=(conn,), daemon=True).start()

    def _guarded(self, conn):
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def handle(self, conn):
        raise NotImplementedError

    def stop(self):
        self.stopped.set()
        self.sock.close()
        self.thread.join(timeout=5)


def _read_head(conn, limit=65536):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class ConnectProxy(_Server):
    """An HTTP proxy that only does CONNECT to 127.0.0.1/localhost; the
    targets ("host:port") it tunnelled to are in .tunnels."""

    def __init__(self):
        super().__init__()
        self.tunnels = []
        self.url = "http://127.0.0.1:%d" % self.port

    def handle(self, conn):
        head = _read_head(conn).decode("latin-1")
        parts = head.split(" ")
        if len(parts) < 2 or parts[0] != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = parts[1].rpartition(":")
        if host not in ("127.0.0.1", "localhost"):
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.tunnels.append(parts[1])
        upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self._pipe(conn, upstream)

    def _pipe(self, a, b):
        def copy(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        t = threading.Thread(target=copy, args=(b, a), daemon=True)
        t.start()
        copy(a, b)
        t.join(timeout=30)
        b.close()


class DribbleServer(_Server):
    """Answers every request with 200 and a body it sends at bytes_per_sec
    (default 12, above libcurl's 10 bytes/s low-speed limit of the module),
    for at most max_seconds. The connection times are in .requests
    (start, end) once a request is over."""

    def __init__(self, bytes_per_sec=12, max_seconds=150):
        super().__init__()
        self.bytes_per_sec = bytes_per_sec
        self.max_seconds = max_seconds
        self.requests = []
        self.url = "http://127.0.0.1:%d/dir" % self.port

    def handle(self, conn):
        start = time.time()
        _read_head(conn)
        total = self.bytes_per_sec * self.max_seconds
        conn.sendall(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\n\r\n" % total).encode())
        sent = 0
        try:
            while sent < total and not self.stopped.is_set():
                conn.sendall(b" " * self.bytes_per_sec)
                sent += self.bytes_per_sec
                time.sleep(1)
        finally:
            self.requests.append((start, time.time()))
