# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# A small HTTPS fixture on loopback in front of pebble (Debian's pebble 2.4
# has neither certificate profiles nor ARI): it forwards every request to
# pebble (with its own Host, so pebble's URLs point back here), adds
# meta.profiles and a renewalInfo endpoint (RFC 9773) to the directory,
# answers renewalInfo with the window a test sets, can reject orders that
# carry "replaces", and records what the client sent.

import base64
import datetime
import http.client
import json
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pebble import free_port

PROFILES = {"classic": "the default profile",
            "shortlived": "certificates valid for six days"}
FORWARD_HEADERS = ("Content-Type", "Location", "Replay-Nonce", "Link", "Retry-After",
                   "Cache-Control")


def rfc3339(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def ari_cert_id(cert):
    """RFC 9773 id of a cryptography x509 certificate: base64url(AKI keyid)
    "." base64url(DER serial bytes), no padding."""
    from cryptography import x509
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    serial = cert.serial_number
    raw = serial.to_bytes((serial.bit_length() + 8) // 8, "big")

    def enc(b):
        return base64.urlsafe_b64encode(b).decode().rstrip("=")
    return "%s.%s" % (enc(aki.key_identifier), enc(raw))


class AcmeProxy:
    """The fixture for one pebble.

    url:              directory url to configure as MDCertificateAuthority
    profiles:         meta.profiles to announce (None: no profiles)
    ari:              announce renewalInfo
    set_window():     what renewalInfo answers (default: a window in 60 days)
    reject_replaces:  answer newOrder with "replaces" with 409 alreadyReplaced
    not_ready:        answer this many finalize requests with 403 orderNotReady
    authz_pending:    show every authorization and challenge as "pending" (a CA
                      whose validation never completes)
    reject_must_staple: answer finalize requests whose CSR has the TLS Feature
                      (Must-Staple) extension with 400 badCSR, as CAs without OCSP do
    requests:         [{"method", "path", "payload"}] in arrival order
    """

    def __init__(self, peb):
        self.peb = peb
        self.port = free_port()
        self.host = "localhost:%d" % self.port
        self.url = "https://%s/dir" % self.host
        self.profiles = dict(PROFILES)
        self.ari = True
        self.reject_replaces = False
        self.not_ready = 0
        self.authz_pending = False
        self.reject_must_staple = False
        self.requests = []
        self.lock = threading.Lock()
        now = datetime.datetime.now(datetime.timezone.utc)
        self.set_window(now + datetime.timedelta(days=60), now + datetime.timedelta(days=61))
        self.new_order_path = None
        self.server = None
        self.thread = None

    # --- test controls -----------------------------------------------------------------

    def set_window(self, start, end, explanation=None, retry_after=None):
        with self.lock:
            self.window = (start, end)
            self.explanation = explanation
            self.retry_after = retry_after

    def set_window_from_now(self, start_secs, end_secs, explanation=None, retry_after=None):
        now = datetime.datetime.now(datetime.timezone.utc)
        self.set_window(now + datetime.timedelta(seconds=start_secs),
                        now + datetime.timedelta(seconds=end_secs), explanation,
                        retry_after)

    def recorded(self, method=None, path_re=None):
        with self.lock:
            return [r for r in self.requests
                    if (not method or r["method"] == method)
                    and (not path_re or re.search(path_re, r["path"]))]

    def new_orders(self):
        """The payloads of all newOrder requests (also rejected ones)."""
        if not self.new_order_path:
            return []
        return [r["payload"] for r in self.recorded("POST", "^%s$" % re.escape(
            self.new_order_path))]

    def renewal_info_requests(self):
        """The certificate ids asked for, in order."""
        return [r["path"].rsplit("/", 1)[-1]
                for r in self.recorded("GET", "^/renewalInfo/")]

    # --- running -----------------------------------------------------------------------

    def start(self):
        proxy = self

        class Handler(_Handler):
            pass
        Handler.proxy = proxy
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.peb.cert_file, self.peb.key_file)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- forwarding --------------------------------------------------------------------

    def forward(self, method, path, body, headers):
        """The request sent on to pebble: (status, headers [(k, v)], body)."""
        ctx = ssl.create_default_context(cafile=self.peb.ca_file)
        conn = http.client.HTTPSConnection("localhost", self.peb.port, context=ctx,
                                           timeout=30)
        try:
            send = {"Host": self.host}
            for k in ("Content-Type", "User-Agent", "Accept"):
                if headers.get(k):
                    send[k] = headers[k]
            conn.request(method, path, body=body, headers=send)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, [(k, v) for k, v in resp.getheaders()
                                 if k.title() in FORWARD_HEADERS], data
        finally:
            conn.close()

    def fresh_nonce(self):
        _, headers, _ = self.forward("HEAD", "/nonce-plz", None, {})
        return dict(headers).get("Replay-Nonce")

    def directory(self, headers):
        status, hdrs, data = self.forward("GET", "/dir", None, headers)
        if status != 200:
            return status, hdrs, data
        d = json.loads(data)
        self.new_order_path = re.sub(r"^https://[^/]+", "", d.get("newOrder", ""))
        if self.ari:
            d["renewalInfo"] = "https://%s/renewalInfo" % self.host
        if self.profiles is not None:
            d.setdefault("meta", {})["profiles"] = dict(self.profiles)
        return 200, [("Content-Type", "application/json")], json.dumps(d).encode()

    def renewal_info(self):
        with self.lock:
            start, end = self.window
            body = {"suggestedWindow": {"start": rfc3339(start), "end": rfc3339(end)}}
            if self.explanation:
                body["explanationURL"] = self.explanation
            hdrs = [("Content-Type", "application/json")]
            if self.retry_after is not None:
                hdrs.append(("Retry-After", str(self.retry_after)))
        return 200, hdrs, json.dumps(body).encode()

    def problem(self, status, type_, detail):
        body = {"type": "urn:ietf:params:acme:error:" + type_, "detail": detail}
        hdrs = [("Content-Type", "application/problem+json")]
        nonce = self.fresh_nonce()
        if nonce:
            hdrs.append(("Replay-Nonce", nonce))
        return status, hdrs, json.dumps(body).encode()

    def rejection(self):
        return self.problem(409, "alreadyReplaced",
                            "the certificate to replace was replaced already")

    def pending(self, answer):
        """answer (of an authorization or challenge) with every status
        "pending"."""
        status, hdrs, data = answer
        if status != 200:
            return answer
        d = json.loads(data)
        d["status"] = "pending"
        for c in d.get("challenges", []):
            c["status"] = "pending"
            c.pop("validated", None)
        return status, hdrs, json.dumps(d).encode()

    MUST_STAPLE_DETAIL = ("Error finalizing order :: OCSP must-staple extension is no "
                          "longer available")

    def must_staple_answer(self, payload):
        """The badCSR answer when the CSR asks for Must-Staple, else None."""
        from cryptography import x509
        try:
            csr = x509.load_der_x509_csr(b64url_decode(payload["csr"]))
            csr.extensions.get_extension_for_class(x509.TLSFeature)
        except (KeyError, TypeError, ValueError, x509.ExtensionNotFound):
            return None
        return self.problem(400, "badCSR", self.MUST_STAPLE_DETAIL)

    def not_ready_answer(self):
        """The orderNotReady answer while not_ready lasts, else None."""
        with self.lock:
            if self.not_ready <= 0:
                return None
            self.not_ready -= 1
        return self.problem(403, "orderNotReady", "the order is not ready yet")


class _Handler(BaseHTTPRequestHandler):
    proxy = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else None

    def _record(self, method, body):
        payload = None
        if method == "POST" and body:
            try:
                jws = json.loads(body)
                raw = b64url_decode(jws.get("payload", ""))
                payload = json.loads(raw) if raw else ""
            except ValueError:
                payload = None
        with self.proxy.lock:
            self.proxy.requests.append({"method": method, "path": self.path,
                                        "payload": payload})
        return payload

    def _send(self, status, headers, data, head=False):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        if data and not head:
            self.wfile.write(data)

    def _handle(self, method):
        body = self._body()
        payload = self._record(method, body)
        p = self.proxy
        try:
            if method == "GET" and self.path == "/dir":
                answer = p.directory(self.headers)
            elif method == "GET" and self.path.startswith("/renewalInfo/") and p.ari:
                answer = p.renewal_info()
            elif (method == "POST" and p.reject_replaces and self.path == p.new_order_path
                  and isinstance(payload, dict) and "replaces" in payload):
                answer = p.rejection()
            elif (method == "POST" and "/finalize-order/" in self.path
                  and p.reject_must_staple and isinstance(payload, dict)
                  and p.must_staple_answer(payload)):
                answer = p.must_staple_answer(payload)
            elif (method == "POST" and "/finalize-order/" in self.path
                  and p.not_ready > 0):
                answer = p.not_ready_answer() or p.forward(method, self.path, body,
                                                           self.headers)
            elif (method == "POST" and p.authz_pending
                  and re.search(r"/(authZ|chalZ)/", self.path)):
                answer = p.pending(p.forward(method, self.path, body, self.headers))
            else:
                answer = p.forward(method, self.path, body, self.headers)
        except Exception as e:  # pebble gone: a gateway error
            answer = (502, [("Content-Type", "text/plain")], str(e).encode())
        self._send(*answer, head=(method == "HEAD"))

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("HEAD")

    def do_POST(self):
        self._handle("POST")


@pytest.fixture
def proxy_factory():
    """Starts AcmeProxy instances in front of a pebble: proxy_factory(peb).
    Request it before acme_factory so it stops after the servers."""
    started = []

    def start(peb):
        proxy = AcmeProxy(peb).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()
