#!/usr/bin/env python3
"""A bot as people write them, on a real library, for scripts/guard.sh.

Usage: guard_bot.py LIBRARY SANDBOX_DIR NAME
LIBRARY is telethon or kurigram. The bot opens its session by NAME, as the library does it:
Telethon creates NAME.session in the working directory when the client is made; kurigram
creates it beside this script (Pyrogram's workdir is the folder of sys.argv[0]) when it
connects. Then it connects to the sandbox with a new key and asks for a login code, as a
bot whose session is empty does. Prints "code sent" when the request went out.

Loopback only: peers.py's guard refuses every other address, and the sandbox's RSA key
and address are put where each library looks for them.
"""

import asyncio
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from peers import loopback_only, pyrogram_to_sandbox  # noqa: E402

PHONE = "9996621234"


async def telethon(sb: pathlib.Path, port: int, name: str):
    from telethon import TelegramClient
    from telethon.crypto import rsa

    rsa.add_key((sb / "server_key.pem").read_text(), old=False)
    print(f"file at {time.time_ns() // 1_000_000}", flush=True)  # for scripts/bench_guard.sh
    client = TelegramClient(name, api_id=1, api_hash="sandbox")  # the file is made here
    client.session.set_dc(2, "127.0.0.1", port)
    client._connection_retries = 0
    await client.connect()
    await client.send_code_request(PHONE)
    print("code sent", flush=True)
    await client.disconnect()


async def kurigram(sb: pathlib.Path, port: int, name: str):
    import pyrogram
    from pyrogram.connection import connection as conn
    from pyrogram.crypto import rsa

    pyrogram_to_sandbox(rsa, conn, sb, port)
    client = pyrogram.Client(name, api_id=1, api_hash="sandbox")
    await client.connect()  # storage.open() makes NAME.session first, then the key
    await client.send_code(PHONE)
    print("code sent", flush=True)
    await client.disconnect()


async def main(lib: str, sb_dir: str, name: str) -> int:
    loopback_only()
    sb = pathlib.Path(sb_dir).resolve()
    port = int(json.loads((sb / "sandbox.json").read_text())["address"].rsplit(":", 1)[1])
    run = {"telethon": telethon, "kurigram": kurigram}[lib]
    await asyncio.wait_for(run(sb, port, name), 30)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:4])))
