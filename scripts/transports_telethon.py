#!/usr/bin/env python3
"""A real Telethon 1.45 client reaches the sandbox over each of its TCP transports.

Not part of `cargo test`; run scripts/transports_telethon.sh. Usage:
    transports_telethon.py SESSION_FILE
SESSION_FILE is a Telethon session signed in on a running `tgsess sandbox` (loopback only).
Prints one line per transport: the user get_me returned, or the error.
"""

import asyncio
import ipaddress
import pathlib
import shutil
import sys
import tempfile

from telethon import TelegramClient, connection
from telethon.sessions import SQLiteSession

TRANSPORTS = [
    connection.ConnectionTcpFull,
    connection.ConnectionTcpAbridged,
    connection.ConnectionTcpIntermediate,
    connection.ConnectionTcpObfuscated,
]


async def one(session_file: str, kind) -> str:
    tmp = pathlib.Path(tempfile.mkdtemp()) / "copy.session"
    shutil.copy(session_file, tmp)  # Telethon writes into the file it opens.
    session = SQLiteSession(str(tmp))
    if not ipaddress.ip_address(session.server_address).is_loopback:
        return f"refusing: {session.server_address} is not loopback"
    client = TelegramClient(session, api_id=1, api_hash="sandbox", connection=kind)
    client._connection_retries = 0
    try:
        await asyncio.wait_for(client.connect(), 10)
        me = await asyncio.wait_for(client.get_me(), 10)
        return f"get_me: id {me.id} @{me.username}"
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        return f"FAILED: {type(e).__name__}: {e}"
    finally:
        await client.disconnect()


async def main(session_file: str) -> int:
    failed = 0
    for kind in TRANSPORTS:
        line = await one(session_file, kind)
        failed += line.startswith(("FAILED", "refusing"))
        print(f"telethon {kind.__name__}: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
