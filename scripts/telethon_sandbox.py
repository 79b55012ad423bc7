#!/usr/bin/env python3
"""A second, independent MTProto client against a running `tgsess sandbox`.

Not part of `cargo test`: it needs Telethon 1.45 from PyPI. Usage:

    python3 -m venv /tmp/tl && /tmp/tl/bin/pip install telethon==1.45
    tgsess sandbox --dir /tmp/sb &          # prints: tgsess sandbox listening on ...
    /tmp/tl/bin/python scripts/telethon_sandbox.py /tmp/sb

It connects with the sandbox's session.string (a fresh signed-out key), then runs
send_code_request, sign_in (wrong code, then the right one), is_user_authorized and
log_out, and prints what each returned. Exits non-zero on any surprise. Loopback only.
"""

import asyncio
import ipaddress
import json
import pathlib
import sys

from telethon import TelegramClient, errors
from telethon.sessions import StringSession

PHONE = "9996621234"
CODE = "22222"


async def main(sandbox_dir: pathlib.Path) -> int:
    text = (sandbox_dir / "session.string").read_text().strip()
    session = StringSession(text)
    if not ipaddress.ip_address(session.server_address).is_loopback:
        print(f"refusing: {session.server_address} is not a loopback address")
        return 2
    print(f"session.string: DC {session.dc_id} at {session.server_address}:{session.port}")
    client = TelegramClient(session, api_id=1, api_hash="sandbox")
    # No retries anywhere: one attempt each, like tgsess.
    client._connection_retries = 0
    client._request_retries = 1
    await client.connect()
    print("connected")
    print("is_user_authorized (before):", await client.is_user_authorized())
    sent = await client.send_code_request(PHONE)
    print("send_code_request:", type(sent.type).__name__, "next:", type(sent.next_type).__name__)
    try:
        await client.sign_in(PHONE, "11111", phone_code_hash=sent.phone_code_hash)
        print("sign_in with a wrong code: unexpectedly accepted")
        return 1
    except errors.PhoneCodeInvalidError:
        print("sign_in with a wrong code: PhoneCodeInvalidError")
    me = await client.sign_in(PHONE, CODE, phone_code_hash=sent.phone_code_hash)
    print(f"sign_in: signed in as {me.first_name} (@{me.username}, id {me.id})")
    authorized = await client.is_user_authorized()
    print("is_user_authorized (after sign_in):", authorized)
    out = await client.log_out()
    print("log_out:", out)
    await client.disconnect()
    # A fresh client on the same (now logged-out) key is not authorized.
    again = TelegramClient(StringSession(text), api_id=1, api_hash="sandbox")
    again._connection_retries = 0
    await again.connect()
    after = await again.is_user_authorized()
    print("is_user_authorized (after log_out):", after)
    await again.disconnect()
    log = [json.loads(l) for l in (sandbox_dir / "requests.jsonl").read_text().splitlines()]
    print("sandbox saw:", ", ".join(f"{e['method']}={e['result']}" for e in log))
    return 0 if authorized and out and not after else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(pathlib.Path(sys.argv[1]))))
