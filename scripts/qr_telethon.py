#!/usr/bin/env python3
"""A real Telethon 1.45 client accepts the QR login token that `tgsess login --qr` shows.

Not part of `cargo test`; run scripts/qr_telethon.sh. Usage:
    qr_telethon.py SESSION_FILE URL
SESSION_FILE is a Telethon session signed in on a running `tgsess sandbox` (loopback only);
URL is the tg://login?token=... line. Prints what AcceptLoginTokenRequest returned.
"""

import asyncio
import base64
import ipaddress
import pathlib
import shutil
import sys
import tempfile

from telethon import TelegramClient
from telethon.sessions import SQLiteSession
from telethon.tl.functions.auth import AcceptLoginTokenRequest


async def main(session_file: str, url: str) -> int:
    token_b64 = url.strip().split("tg://login?token=", 1)[1]
    token = base64.urlsafe_b64decode(token_b64 + "=" * (-len(token_b64) % 4))
    tmp = pathlib.Path(tempfile.mkdtemp()) / "accepting.session"
    shutil.copy(session_file, tmp)  # Telethon writes into the file it opens.
    session = SQLiteSession(str(tmp))
    if not ipaddress.ip_address(session.server_address).is_loopback:
        print(f"refusing: {session.server_address} is not loopback")
        return 2
    client = TelegramClient(session, api_id=1, api_hash="sandbox")
    client._connection_retries = 0
    await client.connect()
    me = await client.get_me()
    print(f"telethon: signed in as id {me.id} @{me.username}; accepting the token from tgsess")
    auth = await client(AcceptLoginTokenRequest(token=token))
    print(f"telethon: AcceptLoginTokenRequest -> {type(auth).__name__} "
          f"(device {auth.device_model!r}, app {auth.app_name!r})")
    await client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
