#!/usr/bin/env python3
"""Real session fixtures, made by the real libraries, and round trips checked by them.

Not part of `cargo test`; run scripts/fixtures.sh, which makes the virtualenvs. Two steps:

  make  --lib NAME --out DIR   write fixtures with one library (run in that library's venv)
  check --tgsess BIN --out DIR import every fixture with tgsess, export it in every format,
                               and load each export back in Telethon and Pyrogram

Keys are random (os.urandom), never real; no network is used.
"""

import argparse
import asyncio
import base64
import hashlib
import ipaddress
import json
import os
import pathlib
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile


def host_port(ip: str, port: int) -> str:
    """ip:port, with an IPv6 address in brackets, as the manifest writes it."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def key_id(key: bytes) -> str:
    return hashlib.sha1(key).digest()[12:20][::-1].hex()


def manifest_add(out: pathlib.Path, name: str, entry: dict) -> None:
    path = out / "manifest.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = entry
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def make_telethon(out: pathlib.Path, tag: str) -> None:
    import telethon
    from telethon.crypto import AuthKey
    from telethon.sessions import SQLiteSession, StringSession

    key = os.urandom(256)
    name = f"telethon-{tag}"
    s = SQLiteSession(str(out / name))
    s.set_dc(2, "149.154.167.51", 443)
    s.auth_key = AuthKey(key)
    s.save()
    s.close()
    version = sqlite3.connect(out / f"{name}.session").execute("select version from version").fetchone()[0]
    manifest_add(out, f"{name}.session", {
        "format": "telethon", "library": f"telethon {telethon.__version__}", "sqlite_version": version,
        "dc_id": 2, "address": "149.154.167.51:443", "key_id": key_id(key),
        "user_id": None, "bot": None,
    })
    if tag != "v8":
        return
    for kind, ip in [("ipv4", "149.154.167.51"), ("ipv6", "2001:67c:4e8:f002::a")]:
        key = os.urandom(256)
        ss = StringSession()
        ss.set_dc(2, ip, 443)
        ss.auth_key = AuthKey(key)
        text = ss.save()
        (out / f"telethon-{kind}.string").write_text(text + "\n")
        addr = f"[{ip}]:443" if ":" in ip else f"{ip}:443"
        manifest_add(out, f"telethon-{kind}.string", {
            "format": "telethon-string", "library": f"telethon {telethon.__version__}",
            "dc_id": 2, "address": addr, "key_id": key_id(key), "user_id": None, "bot": None,
            "length": len(text),
        })


async def make_pyrogram(out: pathlib.Path, tag: str) -> None:
    import pyrogram
    from pyrogram.storage import FileStorage, MemoryStorage

    key = os.urandom(256)
    name = f"pyrogram-{tag}"
    st = FileStorage(name, out)
    await st.open()
    await st.dc_id(2)
    if tag == "v3":
        await st.api_id(12345)
    await st.test_mode(False)
    await st.auth_key(key)
    await st.user_id(5000000001)
    await st.is_bot(False)
    await st.date(0)
    await st.save()
    await st.close()
    version = sqlite3.connect(out / f"{name}.session").execute("select number from version").fetchone()[0]
    manifest_add(out, f"{name}.session", {
        "format": "pyrogram", "library": f"pyrogram {pyrogram.__version__}", "sqlite_version": version,
        "dc_id": 2, "address": None, "key_id": key_id(key), "user_id": 5000000001, "bot": False,
    })
    if tag == "v2":
        await make_old_pyrogram_strings(out)
    if tag != "v3":
        return
    # The current string layout, exported by the library itself.
    key = os.urandom(256)
    ms = MemoryStorage("m")
    await ms.open()
    await ms.dc_id(4)
    await ms.api_id(12345)
    await ms.test_mode(False)
    await ms.auth_key(key)
    await ms.user_id(6000000002)
    await ms.is_bot(True)
    text = await ms.export_session_string()
    (out / "pyrogram-362.string").write_text(text + "\n")
    manifest_add(out, "pyrogram-362.string", {
        "format": "pyrogram-string", "library": f"pyrogram {pyrogram.__version__}", "dc_id": 4,
        "address": None, "key_id": key_id(key), "user_id": 6000000002, "bot": True,
        "length": len(text),
    })


async def make_old_pyrogram_strings(out: pathlib.Path) -> None:
    """The two older string layouts, exported by Pyrogram 1.4 itself: 351 characters for a
    user id below 2**31, 356 above."""
    import pyrogram
    from pyrogram.storage import MemoryStorage

    for uid, size in [(123456789, 351), (7000000003, 356)]:
        key = os.urandom(256)
        ms = MemoryStorage(":memory:")  # 1.4 decodes any other name as a string
        await ms.open()
        await ms.dc_id(1)
        await ms.test_mode(False)
        await ms.auth_key(key)
        await ms.user_id(uid)
        await ms.is_bot(False)
        text = await ms.export_session_string()
        assert len(text) == size, (len(text), size)
        (out / f"pyrogram-{size}.string").write_text(text + "\n")
        manifest_add(out, f"pyrogram-{size}.string", {
            "format": "pyrogram-string", "library": f"pyrogram {pyrogram.__version__}",
            "dc_id": 1, "address": None, "key_id": key_id(key), "user_id": uid, "bot": False,
            "length": size,
        })


async def make_kurigram(out: pathlib.Path) -> None:
    from pyrogram.storage import SQLiteStorage
    import importlib.metadata as md

    key = os.urandom(256)
    st = SQLiteStorage("kurigram", workdir=out)
    await st.open()
    await st.dc_id(2)
    await st.server_address("149.154.167.51")
    await st.port(443)
    await st.api_id(12345)
    await st.test_mode(False)
    await st.auth_key(key)
    await st.user_id(8000000004)
    await st.is_bot(False)
    await st.date(0)
    await st.save()
    await st.close()
    version = sqlite3.connect(out / "kurigram.session").execute("select number from version").fetchone()[0]
    manifest_add(out, "kurigram.session", {
        "format": "pyrogram", "library": f"kurigram {md.version('kurigram')}", "sqlite_version": version,
        "dc_id": 2, "address": "149.154.167.51:443", "key_id": key_id(key), "user_id": 8000000004,
        "bot": False,
    })


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


async def load_telethon_string(text):
    from telethon.sessions import StringSession
    s = StringSession(text.strip())
    return {"dc_id": s.dc_id, "address": host_port(s.server_address, s.port), "key_id": key_id(s.auth_key.key)}


async def load_telethon_file(path):
    from telethon.sessions import SQLiteSession
    s = SQLiteSession(str(path)[: -len(".session")])
    r = {"dc_id": s.dc_id, "address": host_port(s.server_address, s.port), "key_id": key_id(s.auth_key.key)}
    s.close()
    return r


async def load_pyrogram_string(text):
    from pyrogram.storage import MemoryStorage
    m = MemoryStorage("x", text.strip())
    await m.open()
    return {"dc_id": await m.dc_id(), "key_id": key_id(await m.auth_key()),
            "user_id": await m.user_id() or None, "bot": await m.is_bot()}


async def load_pyrogram_file(path):
    from pyrogram.storage import FileStorage
    f = FileStorage(path.stem, path.parent)
    await f.open()
    r = {"dc_id": await f.dc_id(), "key_id": key_id(await f.auth_key()),
         "user_id": await f.user_id(), "bot": bool(await f.is_bot())}
    await f.close()
    return r


async def check(tgsess: str, out: pathlib.Path) -> int:
    manifest = json.loads((out / "manifest.json").read_text())
    failures = 0
    for name, want in sorted(manifest.items()):
        tmp = pathlib.Path(tempfile.mkdtemp(prefix="tgsess-fixture-"))
        try:
            src = tmp / name
            shutil.copy(out / name, src)
            before = src.read_bytes()
            (tmp / "tgsess.toml").write_text('api_id = 12345\napi_hash = "x"\nsession_file = "imported"\n')
            env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "TGSESS_STATE_DIR": str(tmp / "st")}
            base = [tgsess, "--config", str(tmp / "tgsess.toml")]
            extra = []
            r = run(base + ["import", *extra, str(src)], env=env)
            if r.returncode != 0:
                print(f"FAIL {name}: import exit {r.returncode}: {r.stderr.strip()}")
                failures += 1
                continue
            unchanged = src.read_bytes() == before
            results = []
            for fmt in ["telethon-string", "telethon", "pyrogram-string", "pyrogram"]:
                dest = tmp / f"export-{fmt}" if fmt in ("telethon", "pyrogram") else tmp / f"export-{fmt}.txt"
                if fmt in ("telethon", "pyrogram"):
                    dest = dest.with_suffix(".session")
                if fmt.startswith("pyrogram") and want.get("user_id") is None:
                    # A key whose user id is unknown: Pyrogram and its forks would discard
                    # such a session, so tgsess asks Telegram first. Here it is pointed at a
                    # sandbox directory where none runs (never at Telegram): it must refuse
                    # and write nothing.
                    (tmp / "offline.toml").write_text(
                        'api_id = 12345\napi_hash = "x"\nsession_file = "imported"\n'
                        'sandbox_dir = "no-sandbox-here"\n')
                    r = run([tgsess, "--config", str(tmp / "offline.toml"), "export",
                             "--format", fmt, "--output", str(dest)], env=env)
                    refused = (r.returncode == 3 and "user id" in r.stderr and not dest.exists())
                    results.append(f"{fmt}: {'refused without a user id: ok' if refused else 'NOT REFUSED'}")
                    failures += 0 if refused else 1
                    continue
                r = run(base + ["export", "--format", fmt, "--output", str(dest)], env=env)
                if r.returncode != 0:
                    results.append(f"{fmt}: export exit {r.returncode} ({r.stderr.strip()[:80]})")
                    failures += 1
                    continue
                if fmt == "telethon-string":
                    got = await load_telethon_string(dest.read_text())
                elif fmt == "telethon":
                    got = await load_telethon_file(dest)
                elif fmt == "pyrogram-string":
                    got = await load_pyrogram_string(dest.read_text())
                else:
                    got = await load_pyrogram_file(dest)
                bad = [k for k in ("dc_id", "key_id", "user_id", "bot", "address")
                       if k in got and want.get(k) is not None and got[k] != want[k]]
                if bad:
                    results.append(f"{fmt}: MISMATCH {bad}: {got}")
                    failures += 1
                else:
                    results.append(f"{fmt}: ok")
            status = "ok  " if unchanged and all(x.endswith("ok") for x in results) else "FAIL"
            if not unchanged:
                failures += 1
            print(f"{status} {name:26} ({want['library']}) source unchanged: {unchanged}; "
                  + "; ".join(results))
        finally:
            shutil.rmtree(tmp)
    print(f"{len(manifest)} fixtures, {failures} failures")
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--lib", required=True,
                   choices=["telethon-v8", "telethon-v7", "pyrogram-v3", "pyrogram-v2", "kurigram"])
    m.add_argument("--out", required=True)
    c = sub.add_parser("check")
    c.add_argument("--tgsess", required=True)
    c.add_argument("--out", required=True)
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    if a.cmd == "check":
        return asyncio.run(check(os.path.abspath(a.tgsess), out))
    if a.lib.startswith("telethon"):
        make_telethon(out, a.lib.split("-")[1])
    elif a.lib.startswith("pyrogram"):
        asyncio.run(make_pyrogram(out, a.lib.split("-")[1]))
    else:
        asyncio.run(make_kurigram(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
