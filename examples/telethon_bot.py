#!/usr/bin/env python3
"""A Telethon bot started through tgsess, so it opens exactly the session tgsess manages:

    tgsess exec -- python3 examples/telethon_bot.py

with `session_format = "telethon"` in tgsess.toml. While it runs, tgsess holds the session's
lock: `tgsess login/logout/reset/import` and a second `tgsess exec` are refused (exit 4, naming
this process), so nothing rewrites the file under the bot and no second copy of the bot uses
the same key (AUTH_KEY_DUPLICATED). TGSESS_SESSION is the session's full path, whatever the
directory the bot was started from; api_id and api_hash come from the bot's own settings.
"""

import os
import sys

from telethon import TelegramClient, events


def main() -> int:
    session = os.environ.get("TGSESS_SESSION")
    if not session:
        print("start me with: tgsess exec -- python3 examples/telethon_bot.py", file=sys.stderr)
        return 2
    if os.environ.get("TGSESS_SESSION_FORMAT") != "telethon":
        print("set session_format = \"telethon\" in tgsess.toml", file=sys.stderr)
        return 2
    # Telethon appends .session itself: give it the path without it.
    name = session[: -len(".session")] if session.endswith(".session") else session
    client = TelegramClient(name, int(os.environ["API_ID"]), os.environ["API_HASH"])

    @client.on(events.NewMessage(pattern="/ping"))
    async def ping(event):
        await event.reply("pong")

    # start() would ask for a code on an empty session; tgsess's session is already signed in
    # (`tgsess check` says so), and connect() never asks.
    client.loop.run_until_complete(client.connect())
    if not client.loop.run_until_complete(client.is_user_authorized()):
        print(f"{session} is not signed in: run `tgsess login`", file=sys.stderr)
        return 1
    client.run_until_disconnected()
    return 0


if __name__ == "__main__":
    sys.exit(main())
