#!/usr/bin/env python3
"""One real Python MTProto client walks the whole path on a fresh `tgsess sandbox`.

Not part of `cargo test`; run scripts/peers. Usage:
    peers.py LIBRARY SANDBOX_DIR PHONE CODE
LIBRARY is telethon, kurigram, pyrofork or hydrogram (the matching package must be
installed); the 2FA password is read from stdin. The client trusts the sandbox's
`server_key.pem`, creates a fresh auth key with it, sends a code, signs in with 2FA, calls
get_me and logs out. Prints one line: each step done, or the step that failed and why.

Every connection is held to loopback: a connect to any other address raises, so nothing
can reach Telegram even if a library falls back to its built-in DC table.
"""

import asyncio
import base64
import ipaddress
import json
import os
import pathlib
import socket
import sys
import tempfile
import traceback
from importlib.metadata import version


def loopback_only():
    """Refuses every non-loopback connect, at the socket level every library uses."""
    for name in ("connect", "connect_ex"):
        orig = getattr(socket.socket, name)

        def guarded(self, address, _orig=orig):
            host = address[0] if isinstance(address, tuple) else address
            if not ipaddress.ip_address(host).is_loopback:
                raise ConnectionRefusedError(f"peers.py: refusing to connect to {host}")
            return _orig(self, address)

        setattr(socket.socket, name, guarded)


def read_pem(path: pathlib.Path):
    """(n, e) of a PKCS#1 `RSA PUBLIC KEY`: SEQUENCE { INTEGER n, INTEGER e }."""
    body = "".join(l for l in path.read_text().splitlines() if not l.startswith("-----"))
    der = base64.b64decode(body)

    def item(buf, at):
        tag, length, at = buf[at], buf[at + 1], at + 2
        if length & 0x80:
            n = length & 0x7F
            length, at = int.from_bytes(buf[at : at + n], "big"), at + n
        return tag, buf[at : at + length], at + length

    tag, seq, _ = item(der, 0)
    assert tag == 0x30, "not a DER SEQUENCE"
    _, n, at = item(seq, 0)
    _, e, _ = item(seq, at)
    return int.from_bytes(n, "big"), int.from_bytes(e, "big")


class Steps:
    """The steps done so far, printed as one line."""

    def __init__(self, label):
        self.label, self.done = label, []

    def ok(self, what):
        self.done.append(what)

    def line(self, error=None):
        path = ", ".join(self.done) or "nothing"
        if error is None:
            return f"{self.label}: {path}: OK"
        return f"{self.label}: {path}; FAILED: {error}"


async def telethon(sb, port, phone, code, password, steps):
    from telethon import TelegramClient
    from telethon.crypto import rsa
    from telethon.errors import SessionPasswordNeededError
    from telethon.sessions import StringSession
    from telethon.tl.alltlobjects import LAYER

    steps.label += f" (layer {LAYER})"
    rsa.add_key((sb / "server_key.pem").read_text(), old=False)
    session = StringSession()
    session.set_dc(2, "127.0.0.1", port)
    client = TelegramClient(session, api_id=1, api_hash="sandbox")
    client._connection_retries = 0
    await client.connect()
    try:
        steps.ok(f"key exchange ({session.auth_key.key_id:016x})")
        await client.send_code_request(phone)
        steps.ok("code sent")
        try:
            await client.sign_in(phone, code)
            steps.ok("signed in WITHOUT 2FA")
        except SessionPasswordNeededError:
            await client.sign_in(password=password)
            steps.ok("signed in with 2FA")
        me = await client.get_me()
        steps.ok(f"get_me id {me.id} @{me.username}")
        assert await client.log_out(), "log_out returned False"
        steps.ok("logged out")
    finally:
        await client.disconnect()


def pyrogram_to_sandbox(rsa, conn, sb, port):
    """A Pyrogram fork (its `crypto.rsa` and `connection.connection` modules) trusts the
    sandbox's RSA key and connects to the sandbox on 127.0.0.1:`port`."""
    n, e = read_pem(sb / "server_key.pem")
    fingerprint = int((sb / "server_key.fingerprint").read_text())
    rsa.server_public_keys[fingerprint] = rsa.PublicKey(n, e)
    if hasattr(conn, "DataCenter"):
        # pyrofork, hydrogram: addresses come from the built-in DC table.
        conn.DataCenter = lambda *a, **k: ("127.0.0.1", port)
        return
    # kurigram: the Connection is given the stored address and port.
    init = conn.Connection.__init__

    def local(self, *args, **kw):
        names = init.__code__.co_varnames[1 : init.__code__.co_argcount]
        bound = dict(zip(names, args), **kw)
        bound.update(server_address="127.0.0.1", port=port)
        init(self, **bound)

    conn.Connection.__init__ = local


def pyrogram_family(module):
    """The three Pyrogram forks share the API; only the address plumbing differs."""

    async def run(sb, port, phone, code, password, steps):
        import importlib

        pkg = importlib.import_module(module)
        raw = importlib.import_module(f"{module}.raw")
        rsa = importlib.import_module(f"{module}.crypto.rsa")
        conn = importlib.import_module(f"{module}.connection.connection")
        errors = importlib.import_module(f"{module}.errors")
        steps.label += f" (layer {raw.all.layer})"
        pyrogram_to_sandbox(rsa, conn, sb, port)
        work = tempfile.mkdtemp()
        client = pkg.Client("peer", api_id=1, api_hash="sandbox", in_memory=True, workdir=work)
        await client.connect()
        try:
            key = await client.storage.auth_key()
            steps.ok(f"key exchange ({len(key)} bytes)")
            sent = await client.send_code(phone)
            steps.ok("code sent")
            try:
                await client.sign_in(phone, sent.phone_code_hash, code)
                steps.ok("signed in WITHOUT 2FA")
            except errors.SessionPasswordNeeded:
                await client.check_password(password)
                steps.ok("signed in with 2FA")
            # What Client.start() does after authorising: the dispatcher and update state.
            await client.initialize()
            me = await client.get_me()
            steps.ok(f"get_me id {me.id} @{me.username}")
            await client.log_out()
            steps.ok("logged out")
        finally:
            if client.is_initialized:
                await client.stop()
            elif client.is_connected:
                await client.disconnect()

    return run


CLIENTS = {
    "telethon": ("Telethon", telethon),
    "kurigram": ("kurigram", pyrogram_family("pyrogram")),
    "pyrofork": ("pyrofork", pyrogram_family("pyrogram")),
    "hydrogram": ("hydrogram", pyrogram_family("hydrogram")),
}


async def main(lib, sb_dir, phone, code):
    loopback_only()
    password = sys.stdin.readline().rstrip("\n")
    sb = pathlib.Path(sb_dir).resolve()
    # The Pyrogram forks append to ./unknown_errors.txt: keep that out of the repository.
    os.chdir(tempfile.mkdtemp())
    port = json.loads((sb / "sandbox.json").read_text())["address"].rsplit(":", 1)[1]
    dist, run = CLIENTS[lib]
    steps = Steps(f"{lib} {version(dist)}")
    try:
        await asyncio.wait_for(run(sb, int(port), phone, code, password, steps), 60)
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(steps.line(f"{type(e).__name__}: {e} ({pathlib.Path(where.filename).name}:{where.lineno})"))
        return 1
    print(steps.line())
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:5])))
