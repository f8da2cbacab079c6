"""A real SMTP server for the tests (aiosmtpd), keeping and parsing what it receives."""
import email
import email.policy
import itertools
import socket
import threading

from aiosmtpd.controller import Controller


def free_port():
    """A TCP port nobody listens on (aiosmtpd cannot pick its own: ../shared/RECIPES.md)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class SmtpServer:
    """Receives mail on 127.0.0.1; ``messages`` are parsed EmailMessages, in arrival order.

    Addresses in ``refuse`` are answered 550, as a server refusing a mailbox would. Without
    ``smtputf8`` it does not offer SMTPUTF8, as many servers do not: no non-ASCII mailboxes.
    """

    def __init__(self, smtputf8=True):
        self.messages = []
        self.envelopes = []
        self.refuse = set()
        self._lock = threading.Lock()
        self._smtputf8 = smtputf8
        self._listen_on(free_port())

    def _listen_on(self, port):
        self.port = port
        self._controller = Controller(self, hostname="127.0.0.1", port=port,
                                      enable_SMTPUTF8=self._smtputf8)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.envelopes.append(envelope)
            self.messages.append(parsed)
        return "250 OK"

    def start(self, attempts=5):
        """Start listening; another process (an xdist worker) may take the free port between
        choosing it and binding it, so a taken port is exchanged for another, a few times."""
        for attempt in range(attempts):
            try:
                self._controller.start()
                return self
            except (OSError, RuntimeError):
                self._controller.loop.close()  # a failed start leaves its event loop open
                if attempt == attempts - 1:
                    raise
                self._listen_on(free_port())
        return self

    def stop(self):
        self._controller.stop()

    def to(self, address):
        """The messages received for ``address``."""
        return [m for m, e in zip(self.messages, self.envelopes) if address in e.rcpt_tos]


def raw_header(content, name):
    """The header ``name`` exactly as it came over the wire in ``content`` (the bytes the server
    received), folded lines joined by CRLF; None when the message has no such header."""
    head = content.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii")
    lines = head.split("\n")
    for number, line in enumerate(lines):
        if line.lower().startswith(name.lower() + ":"):
            folded = itertools.takewhile(lambda more: more[:1] in (" ", "\t"), lines[number + 1:])
            return "\r\n".join([line, *folded])
    return None
