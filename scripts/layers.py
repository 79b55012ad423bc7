#!/usr/bin/env python3
"""Extracts, from each library's own shipped schema, the TL constructors the sandbox sends,
into crates/sandbox/src/layers/lLAYER.tl (one file per layer the sandbox speaks).

Not part of `cargo test`; run scripts/layers.sh, which downloads the sources. Usage:
    layers.py OUT_DIR LABEL=PATH...
Each PATH is a .tl schema (a Pyrogram fork's sdist compiler/api/source/main_api.tl,
grammers-tl-types' tl/api.tl), GramJS's tl/apiTl.js (the schema as a JS string), or mtcute's
tl/api-schema.json. LABEL names the package and file in the output's header.
"""

import json
import pathlib
import re
import sys

# Every constructor that the sandbox's RPC answers can contain (crates/sandbox/src/rpc.rs), nested
# ones included. The sandbox re-encodes its layer-230 answers into these.
NEEDED = """

user userEmpty users.userFull userFull peerSettings peerNotifySettings
config dcOption
auth.authorization authorization account.authorizations
auth.loginToken auth.loginTokenMigrateTo auth.loginTokenSuccess
updateShort updateLoginToken
auth.sentCode auth.sentCodeSuccess auth.sentCodeTypeApp auth.sentCodeTypeSms
auth.sentCodeTypeCall auth.sentCodeTypeEmailCode auth.codeTypeSms auth.codeTypeCall
account.password passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow
securePasswordKdfAlgoUnknown
auth.loggedOut updates.state updates.differenceEmpty
""".split()


def tl_lines(text):
    """{name: line} of the constructors in a .tl text (functions section excluded)."""
    out = {}
    for line in text.split("---functions---")[0].splitlines():
        m = re.match(r"^([a-zA-Z0-9_.]+)#([0-9a-f]+) ", line.strip())
        if m:
            out[m.group(1)] = line.strip()
    return out


def json_lines(data):
    """mtcute's api-schema.json entries, written back as TL lines."""
    out = {}
    for e in data["e"]:
        if e.get("kind") != "class":
            continue
        args = []
        for a in e.get("arguments", []):
            # mtcute writes ids as int53, its name for a long that fits a JS number.
            ty = "long" if a["type"] == "int53" else a["type"]
            mods = a.get("typeModifiers", {})
            if mods.get("isVector"):
                ty = f"Vector<{ty}>"
            if mods.get("predicate"):
                ty = f"{mods['predicate']}?{ty}"
            args.append(f"{a['name']}:{ty}")
        out[e["name"]] = f"{e['name']}#{e['id']:x} {' '.join(args)} = {e['type']};".replace("  ", " ")
    return out, data["l"]


def load(path):
    p = pathlib.Path(path)
    text = p.read_text()
    if p.suffix == ".json":
        return json_lines(json.loads(text))
    if p.suffix == ".js":
        text = text.split("`", 1)[1].rsplit("`", 1)[0]
    m = re.search(r"LAYER\s*(\d+)", text)
    layer = int(m.group(1)) if m else None
    if layer is None and p.suffix == ".js":
        # GramJS keeps the layer beside the schema (tl/AllTLObjects.js `LAYER = 198`).
        other = (p.parent / "AllTLObjects.js").read_text()
        layer = int(re.search(r"LAYER = (\d+)", other).group(1))
    return tl_lines(text), layer


def main(out_dir, sources):
    out = pathlib.Path(out_dir)
    for source in sources:
        label, path = source.split("=", 1)
        lines, layer = load(path)
        missing = [n for n in NEEDED if n not in lines]
        body = [lines[n] for n in NEEDED if n in lines]
        header = [
            f"// Layer {layer}: the constructors the sandbox sends, as {label} defines them.",
            "// Extracted by scripts/layers.py (run scripts/layers.sh); do not edit by hand.",
        ]
        if missing:
            header.append(f"// Not in this layer: {' '.join(missing)}")
        (out / f"l{layer}.tl").write_text("\n".join(header + body) + "\n")
        print(f"layer {layer}: {len(body)} constructors from {label}" + (f"; missing {missing}" if missing else ""))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
