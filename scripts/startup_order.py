#!/usr/bin/env python3
"""The functions a short tgsess command runs, for the linker to place together
(docs/startup-order.md; build.rs passes the list to lld).

    cargo build --release && python3 scripts/startup_order.py [binary]
        writes link/startup-order.txt
    python3 scripts/startup_order.py --check [binary]
        says how many of its symbols the binary still has

Writing needs valgrind: each command runs once under callgrind (--demangle=no, so the names
are the symbols lld matches), against a `tgsess sandbox` on 127.0.0.1 and a session signed
in there (bench.signed_in). The commands, in order: `check --offline`, `check`, `status`,
`list`; each adds the functions the ones before did not run. Symbol names carry hashes of
the toolchain, the profile and the locked dependencies: after changing any of these, write
the list again from a release build. A stale list makes starts slower, never wrong.
"""

import pathlib
import re
import subprocess
import sys
import tempfile

from bench import release_dir, signed_in

ORDER = pathlib.Path(__file__).resolve().parent.parent / "link" / "startup-order.txt"
COMMANDS = [["check", "--offline", "-q"], ["check", "-q"], ["status"], ["list"]]
# A function's first line in callgrind's output: `fn=(12) name`, or `cfn=(12) name` for a
# callee; later lines name it by number only. `'2` marks a recursive call's level.
FUNCTION = re.compile(r"^c?fn=\(\d+\) (\S+?)(?:'\d+)?$")


def functions(binary: str, config: str, env: dict, args: list) -> list:
    """The symbols callgrind saw run in `tgsess --config CONFIG ARGS`, in the order its output
    lists them: not the order they ran, and not the same from one run to the next, so a list
    written again may differ in order where it does not in content."""
    with tempfile.NamedTemporaryFile(prefix="tgsess-callgrind-") as out:
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out.name}",
             binary, "--config", config, *args],
            env=env, capture_output=True, timeout=120, check=False,
        )
        lines = pathlib.Path(out.name).read_text(encoding="utf-8", errors="replace").splitlines()
    names = [m.group(1) for line in lines if (m := FUNCTION.match(line))]
    # Unnamed code (`0x…`) and callgrind's own entries (`(below main)`) are not symbols.
    return [n for n in names if not n.startswith("0x") and "(" not in n]


def symbols(binary: str) -> set:
    out = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def present(binary: str) -> tuple:
    """(listed symbols the binary has, symbols listed)."""
    listed = ORDER.read_text().split()
    have = symbols(binary)
    return sum(1 for name in listed if name in have), len(listed)


def write(binary: str) -> int:
    order, seen = [], set()
    with signed_in(binary) as (config, env, _):
        for args in COMMANDS:
            new = [n for n in functions(binary, config, env, args) if n not in seen]
            seen.update(new)
            order.extend(new)
            print(f"tgsess {' '.join(args)}: {len(new)} more functions")
    if len(order) < 100:
        print("callgrind saw too few functions; is valgrind installed?")
        return 1
    ORDER.parent.mkdir(exist_ok=True)
    ORDER.write_text("\n".join(order) + "\n")
    print(f"wrote {len(order)} symbols to {ORDER}")
    return 0


def main() -> int:
    check = "--check" in sys.argv[1:]
    rest = [a for a in sys.argv[1:] if a != "--check"]
    binary = str(pathlib.Path(rest[0] if rest else release_dir() / "tgsess").resolve())
    if not check:
        return write(binary)
    found, listed = present(binary)
    print(f"{binary} has {found} of the {listed} symbols in {ORDER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
