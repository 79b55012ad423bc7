#!/usr/bin/env python3
"""Serialises the sandbox's four layer-dependent answers with a Python library's own TL
classes, for crates/sandbox/tests/fixtures/layers/LIBRARY.json (checked by crates/sandbox/src/layers/tests.rs).

Not part of `cargo test`; run scripts/layers.sh. Usage:
    layer_fixtures.py telethon|kurigram|pyrofork|hydrogram
Prints JSON: the library, its version and layer, and the hex bytes of `user`,
`users.userFull`, `config` and `auth.authorization`. The values are the ones the sandbox
sends for its phone 9996621234 (crates/sandbox/src/rpc.rs `user`, `user_full`, `config`,
`authorization`); tests.rs builds the same values in layer 230.
"""

import json
import sys
from importlib.metadata import version

USER = dict(
    id=700021234,
    access_hash=0x1122334455667788,
    first_name="Sandbox",
    username="sandbox_21234",
    phone="9996621234",
)
CONFIG = dict(
    date=1700000000, expires=1700003600, test_mode=True, this_dc=2,
    dc_txt_domain_name="sandbox.invalid", chat_size_max=200, megagroup_size_max=200000,
    forwarded_count_max=100, online_update_period_ms=210000, offline_blur_timeout_ms=5000,
    offline_idle_timeout_ms=30000, online_cloud_timeout_ms=300000,
    notify_cloud_delay_ms=30000, notify_default_delay_ms=1500, push_chat_period_ms=60000,
    push_chat_limit=2, edit_time_limit=172800, revoke_time_limit=2147483647,
    revoke_pm_time_limit=2147483647, rating_e_decay=2419200, stickers_recent_limit=200,
    channels_read_media_period=604800, call_receive_timeout_ms=20000,
    call_ring_timeout_ms=90000, call_connect_timeout_ms=30000,
    call_packet_timeout_ms=10000, me_url_prefix="https://t.me/", caption_length_max=1024,
    message_length_max=4096, webfile_dc_id=2, revoke_pm_inbox=True,
)


def build(types, users_ns, auth_ns, serialize):
    user = types.User(is_self=True, stories_unavailable=True, **USER)
    full = types.UserFull(
        id=USER["id"],
        settings=types.PeerSettings(),
        notify_settings=types.PeerNotifySettings(),
        common_chats_count=0,
    )
    options = [
        types.DcOption(static=True, id=dc, ip_address="127.0.0.1", port=40000) for dc in (1, 2, 3)
    ]
    return {
        "user": serialize(user),
        "users.userFull": serialize(users_ns.UserFull(full_user=full, chats=[], users=[user])),
        "config": serialize(types.Config(dc_options=options, **CONFIG)),
        "auth.authorization": serialize(auth_ns.Authorization(user=user)),
    }


def telethon():
    from telethon.tl import types
    from telethon.tl.alltlobjects import LAYER

    return "telethon", LAYER, build(types, types.users, types.auth, lambda o: bytes(o).hex())


def pyrogram(module, dist):
    import importlib

    raw = importlib.import_module(f"{module}.raw")
    t = raw.types
    return dist, raw.all.layer, build(t, t.users, t.auth, lambda o: o.write().hex())


LIBS = {
    "telethon": telethon,
    "kurigram": lambda: pyrogram("pyrogram", "kurigram"),
    "pyrofork": lambda: pyrogram("pyrogram", "pyrofork"),
    "hydrogram": lambda: pyrogram("hydrogram", "hydrogram"),
}

if __name__ == "__main__":
    dist, layer, objects = LIBS[sys.argv[1]]()
    print(json.dumps({"library": dist, "version": version(dist), "layer": layer, **objects}, indent=1))
