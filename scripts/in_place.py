#!/usr/bin/env python3
"""The real libraries judge what tgsess writes in their formats.

Not part of `cargo test`; run scripts/in_place.sh, which makes the virtualenvs, starts a
`tgsess sandbox` on 127.0.0.1 and writes the files. Two checks:

  telethon DIR   (Telethon 1.45) every *.telethon.session and *.telethon.string in DIR:
                 connect to the sandbox, is_user_authorized(), get_me()
  pyrogram DIR   (run once per fork: kurigram, pyrofork, hydrogram) every *.pyrogram.session
                 and *.pyrogram.string in DIR: opened with the fork's own storage class (on a
                 copy: opening migrates), then the test its Client.load_session uses to
                 decide that a session is empty (a new key and a new code)

Prints one line per file; exits non-zero on any failure. Loopback only: a session whose
address is not 127.0.0.1 is refused before connecting.
"""

import asyncio
import importlib
import inspect
import ipaddress
import pathlib
import shutil
import sys
import tempfile


async def telethon_check(d: pathlib.Path) -> int:
    import telethon
    from telethon import TelegramClient
    from telethon.sessions import SQLiteSession, StringSession

    failures = 0
    files = sorted(d.glob("*.telethon.session")) + sorted(d.glob("*.telethon.string"))
    for f in files:
        if f.suffix == ".string":
            session = StringSession(f.read_text().strip())
        else:
            # A copy: Telethon writes its entity cache into the file it opens.
            tmp = pathlib.Path(tempfile.mkdtemp()) / f.name
            shutil.copy(f, tmp)
            session = SQLiteSession(str(tmp))
        if not ipaddress.ip_address(session.server_address).is_loopback:
            print(f"telethon {telethon.__version__} {f.name}: refusing non-loopback {session.server_address}")
            failures += 1
            continue
        client = TelegramClient(session, api_id=1, api_hash="sandbox")
        client._connection_retries = 0
        await client.connect()
        authorized = await client.is_user_authorized()
        me = await client.get_me() if authorized else None
        await client.disconnect()
        ok = authorized and me is not None
        who = f"get_me: id {me.id} @{me.username}" if me else "get_me: -"
        print(f"telethon {telethon.__version__} {f.name}: DC {session.dc_id} "
              f"{session.server_address}:{session.port}, is_user_authorized={authorized}, {who}: "
              f"{'OK' if ok else 'FAIL'}")
        failures += 0 if ok else 1
    if not files:
        print("telethon: no files to check")
        return 1
    return failures


def open_storage(storage, f: pathlib.Path):
    """The fork's own storage for a file (on a copy) or a string. Pyrogram 2.0 and pyrofork
    have FileStorage/MemoryStorage; kurigram and hydrogram one SQLiteStorage for both."""
    tmp = pathlib.Path(tempfile.mkdtemp())
    if f.suffix == ".string":
        text = f.read_text().strip()
        if hasattr(storage, "MemoryStorage"):
            return storage.MemoryStorage(f.stem, session_string=text)
        # As Client.__init__ does for a session string: kurigram reads it only in memory.
        params = inspect.signature(storage.SQLiteStorage.__init__).parameters
        memory = {k: True for k in ("in_memory", "use_memory") if k in params}
        return storage.SQLiteStorage(f.stem, workdir=tmp, session_string=text, **memory)
    shutil.copy(f, tmp / f.name)
    name = f.name.removesuffix(".session")
    if hasattr(storage, "FileStorage"):
        return storage.FileStorage(name, workdir=tmp)
    return storage.SQLiteStorage(name, workdir=tmp)


async def pyrogram_check(d: pathlib.Path, module: str, dist: str) -> int:
    from importlib import metadata

    mod = importlib.import_module(module)
    storage = importlib.import_module(f"{module}.storage")
    client_src = inspect.getsource(importlib.import_module(f"{module}.client").Client.load_session)
    uses = "user_id() is None" in client_src and "auth_key() is None" in client_src
    label = f"{dist} {metadata.version(dist)}"
    print(f"{label}: Client.load_session treats a session as empty when test_mode, auth_key, "
          f"user_id or is_bot is None: {'confirmed in its source' if uses else 'NOT FOUND'}")
    failures = 0 if uses else 1
    files = sorted(d.glob("*.pyrogram.session")) + sorted(d.glob("*.pyrogram.string"))
    for f in files:
        s = open_storage(storage, f)
        await s.open()
        values = {
            "dc_id": await s.dc_id(),
            "api_id": await s.api_id() if hasattr(s, "api_id") else None,
            "test_mode": await s.test_mode(),
            "auth_key": await s.auth_key(),
            "user_id": await s.user_id(),
            "is_bot": await s.is_bot(),
        }
        await s.close()
        empty = any(values[k] is None for k in ("test_mode", "auth_key", "user_id", "is_bot"))
        key = values["auth_key"]
        print(f"{label} {f.name}: dc_id={values['dc_id']} api_id={values['api_id']} "
              f"test_mode={values['test_mode']} key={'%d bytes' % len(key) if key else None} "
              f"user_id={values['user_id']} is_bot={values['is_bot']}: "
              f"{'EMPTY (would ask for a new code): FAIL' if empty else 'not empty: OK'}")
        failures += 1 if empty else 0
    if not files:
        print(f"{label}: no files to check")
        return 1
    del mod
    return failures


def main() -> int:
    what, d = sys.argv[1], pathlib.Path(sys.argv[2])
    if what == "telethon":
        return 1 if asyncio.run(telethon_check(d)) else 0
    module, dist = sys.argv[3], sys.argv[4]
    return 1 if asyncio.run(pyrogram_check(d, module, dist)) else 0


if __name__ == "__main__":
    sys.exit(main())
