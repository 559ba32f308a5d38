"""A real SMTP server on loopback for kpi_mail's tests and demos (aiosmtpd).

    from smtp_server import SmtpServer
    with SmtpServer() as server:            # listens on a free 127.0.0.1 port
        ... UPDATE kpi_mail.settings SET smtp_url = server.url ...
        server.wait_for(1)                  # waits for one message
        raw = server.messages[0].data       # the message as received (bytes, CRLF)

Options:
    starttls=True         offer STARTTLS (self-signed certificate made with openssl)
    auth_required=True    offer AUTH (PLAIN, LOGIN) even without TLS and demand it;
                          every login/password tried is kept in server.credentials;
                          server.auth_accept = False makes it refuse every login
    reject=("a@b",)       answer 550 to RCPT TO for these addresses
    mode="up"             listen and answer (default)
    mode="down"           keep the port but listen to nothing: connections are refused
    mode="hang"           accept TCP connections and never say anything

server.start(mode) switches mode on the same port; server.stop() closes everything.
server.connections counts the SMTP connections clients opened; server.transcript
keeps every command line the server received (AUTH payloads included, so that
tests can check what a client sent).

Run as a script for a demo: python3 test/smtp_server.py [port] prints each message.
"""

import email
import email.policy
import logging
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

HOST = "127.0.0.1"

# aiosmtpd warns about AUTH without TLS (wanted here: see start()) and logs
# the failed TLS handshakes that the tests provoke: keep the output readable.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


def free_port():
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Received:
    """One message as the server got it."""

    def __init__(self, mail_from, rcpt_tos, data, connection):
        self.mail_from = mail_from      # envelope sender
        self.rcpt_tos = list(rcpt_tos)  # accepted envelope recipients
        self.data = data                # raw bytes, CRLF line ends, dot-unstuffed
        self.connection = connection    # number of the SMTP connection (1, 2, ...)

    def parse(self):
        """The message as an email.message.EmailMessage (policy=default)."""
        return email.message_from_bytes(self.data, policy=email.policy.default)


class _Handler:
    """aiosmtpd hooks: refuse some recipients, keep every message."""

    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if address.lower() in self.server.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: unknown user" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, smtp, session, envelope):
        n = self.server._record(envelope, getattr(session, "kpi_connection", 0))
        return "250 2.0.0 Ok: queued as KPI%04d" % n


class _SMTP(SMTP):
    """aiosmtpd's SMTP that numbers its connections and keeps the commands it gets."""

    def __init__(self, server, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kpi_server = server

    def connection_made(self, transport):
        super().connection_made(transport)
        self.session.kpi_connection = self._kpi_server._connected()

    def _kpi_note(self, line):
        with self._kpi_server._lock:
            self._kpi_server.transcript.append(line)

    async def smtp_EHLO(self, hostname):
        self._kpi_note("EHLO " + hostname)
        return await super().smtp_EHLO(hostname)

    async def smtp_AUTH(self, arg):
        self._kpi_note("AUTH " + arg)
        return await super().smtp_AUTH(arg)

    async def smtp_STARTTLS(self, arg):
        self._kpi_note("STARTTLS")
        return await super().smtp_STARTTLS(arg)

    async def smtp_MAIL(self, arg):
        self._kpi_note("MAIL " + arg)
        return await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        self._kpi_note("RCPT " + arg)
        return await super().smtp_RCPT(arg)


class _Controller(Controller):
    def __init__(self, server, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kpi_server = server

    def factory(self):
        return _SMTP(self._kpi_server, self.handler, **self.SMTP_kwargs)


class _Hang:
    """Accepts TCP connections on the port and never answers."""

    def __init__(self, port, server):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.clients = []
        self.running = True
        self.server = server
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.server._connected()
            self.clients.append(conn)

    def stop(self):
        self.running = False
        self.thread.join()
        for c in self.clients:
            c.close()
        self.sock.close()


class SmtpServer:
    """See the module documentation."""

    def __init__(self, starttls=False, auth_required=False, reject=(), mode="up", port=None):
        self.port = port or free_port()
        self.url = "smtp://%s:%d" % (HOST, self.port)
        self.starttls = starttls
        self.auth_required = auth_required
        self.reject = {a.lower() for a in reject}
        self.messages = []
        self.credentials = []       # (mechanism, login, password) of each AUTH
        self.transcript = []        # command lines received
        self.connections = 0
        self.auth_accept = True
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._controller = None
        self._hang = None
        self._certdir = None
        self.mode = None
        self.start(mode)

    # -- state kept by the handlers ---------------------------------------
    def _connected(self):
        with self._lock:
            self.connections += 1
            return self.connections

    def _record(self, envelope, connection):
        with self._cond:
            self.messages.append(Received(envelope.mail_from, envelope.rcpt_tos,
                                          bytes(envelope.original_content), connection))
            self._cond.notify_all()
            return len(self.messages)

    def _authenticator(self, smtp, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
        else:
            login, password = repr(auth_data), ""
        with self._lock:
            self.credentials.append((mechanism, login, password))
        return AuthResult(success=self.auth_accept, handled=False)

    def _tls_context(self):
        if self._certdir is None:
            if shutil.which("openssl") is None:
                raise RuntimeError("openssl is needed to offer STARTTLS")
            self._certdir = tempfile.mkdtemp(prefix="kpi_smtp_tls.")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-subj", "/CN=localhost", "-days", "2",
                            "-keyout", os.path.join(self._certdir, "key.pem"),
                            "-out", os.path.join(self._certdir, "cert.pem")],
                           check=True, capture_output=True)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(os.path.join(self._certdir, "cert.pem"),
                            os.path.join(self._certdir, "key.pem"))
        return ctx

    # -- control ------------------------------------------------------------
    def start(self, mode="up"):
        """Switches to mode (up, down or hang) on the same port."""
        self._close_listeners()
        if mode == "up":
            kwargs = {}
            if self.starttls:
                kwargs["tls_context"] = self._tls_context()
            if self.auth_required:
                kwargs.update(auth_required=True, auth_require_tls=False,
                              authenticator=self._authenticator)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._controller = _Controller(self, _Handler(self), hostname=HOST, port=self.port,
                                               server_hostname="kpi-test.invalid",
                                               data_size_limit=10 * 1024 * 1024, **kwargs)
            before = self.connections
            self._controller.start()
            # the controller's own readiness probe is not a client connection
            time.sleep(0.05)
            with self._lock:
                self.connections = before
        elif mode == "hang":
            self._hang = _Hang(self.port, self)
        elif mode != "down":
            raise ValueError("mode must be up, down or hang")
        self.mode = mode
        return self

    def _close_listeners(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._hang is not None:
            self._hang.stop()
            self._hang = None

    def stop(self):
        self._close_listeners()
        if self._certdir:
            shutil.rmtree(self._certdir, ignore_errors=True)
            self._certdir = None
        self.mode = "down"

    def clear(self):
        """Forgets the messages, credentials, transcript and connection count."""
        with self._lock:
            self.messages.clear()
            self.credentials.clear()
            self.transcript.clear()
            self.connections = 0

    def wait_for(self, count, timeout=10.0):
        """Waits until at least count messages arrived; returns whether they did."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else free_port()
    server = SmtpServer(port=port)
    print("SMTP server listening on %s (Ctrl-C to stop)" % server.url, flush=True)
    seen = 0
    try:
        while True:
            server.wait_for(seen + 1, timeout=3600)
            while seen < len(server.messages):
                m = server.messages[seen]
                seen += 1
                print("--- message %d from %s to %s" % (seen, m.mail_from, ", ".join(m.rcpt_tos)))
                print(m.data.decode("utf-8", "replace"), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
