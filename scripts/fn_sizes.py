#!/usr/bin/env python3
"""Function sizes of the Rust code under the given directories (default: src and crates),
outside tests: how many lines each `fn` spans, from its signature to its closing brace.

    scripts/fn_sizes.py [--list N] [DIR...]

Prints the count, median, p90, how many are over 60 and over 80 lines, and with --list the N
longest. A function is skipped when it sits in a `#[cfg(test)]` module or a tests.rs file.
The count is by lines as written (rustfmt style), comments and blank lines included, as the
issue that set the limits measured them.
"""
import os
import re
import statistics
import sys

FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+\"C\"\s+)?fn\s+(\w+)")


def functions(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    test_depth = None  # brace depth at which a #[cfg(test)] module opened
    depth = 0
    pending_test = False
    i = 0
    out = []
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("#[cfg(test)]"):
            pending_test = True
        m = FN.match(line)
        if m and test_depth is None and not stripped.startswith("//"):
            # Find the opening brace (or a `;` for a declaration without a body).
            j, opened = i, False
            while j < len(lines):
                code = lines[j].split("//")[0]
                if "{" in code:
                    opened = True
                    break
                if code.rstrip().endswith(";"):
                    break
                j += 1
            if opened:
                d, k = 0, j
                while k < len(lines):
                    code = strip_strings(lines[k].split("//")[0])
                    d += code.count("{") - code.count("}")
                    if d == 0 and k >= j:
                        break
                    k += 1
                out.append((m.group(7), i + 1, k - i + 1))
        code = strip_strings(line.split("//")[0])
        if pending_test and "{" in code:
            test_depth = depth
            pending_test = False
        depth += code.count("{") - code.count("}")
        if test_depth is not None and depth <= test_depth:
            test_depth = None
        i += 1
    return out


def strip_strings(code):
    return re.sub(r'"(\\.|[^"\\])*"', '""', re.sub(r"'(\\.|[^'\\])'", "''", code))


def main(argv):
    show = 0
    if argv[:1] == ["--list"]:
        show, argv = int(argv[1]), argv[2:]
    roots = argv or [d for d in ("src", "crates") if os.path.isdir(d)]
    found = []
    for root in roots:
        for dirpath, _, names in os.walk(root):
            if "/tests" in dirpath or dirpath.endswith("tests"):
                continue
            for n in names:
                if n.endswith(".rs") and n != "tests.rs":
                    p = os.path.join(dirpath, n)
                    found += [(size, p, name, line) for name, line, size in functions(p)]
    sizes = sorted(s for s, *_ in found)
    if not sizes:
        print("no functions")
        return
    p90 = sizes[int(len(sizes) * 0.9) - 1] if len(sizes) >= 10 else sizes[-1]
    print(
        f"{len(sizes)} functions: median {statistics.median(sizes):g}, p90 {p90}, "
        f"over 60: {sum(s > 60 for s in sizes)}, over 80: {sum(s > 80 for s in sizes)}, "
        f"longest {sizes[-1]}"
    )
    for size, p, name, line in sorted(found, reverse=True)[:show]:
        print(f"  {size:4} {p}:{line} {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
