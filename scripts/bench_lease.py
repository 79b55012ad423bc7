#!/usr/bin/env python3
"""The lease's handover gap (a benchmark, not a test), as a rolling deploy sees it.

    cargo build --release --bin tgsess --examples && python3 scripts/bench_lease.py [N]

Starts a private PostgreSQL cluster (initdb in a temporary directory, 127.0.0.1 on a free
port, as the postgres user when run as root) and a `tgsess sandbox`, signs a session in, and
copies it to two "hosts" (two state directories). Then N times (default 20): the new
instance starts `tgsess exec --wait` and waits for the lease; the old one gets SIGTERM; the
gap is the old bot's last moment to the new bot's first (examples/standin_bot.rs --stamps
writes the time every 10 ms, so each side is known to within 10 ms). Prints every gap and
the median. Loopback only.
"""

import glob
import os
import pathlib
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench import release_dir  # noqa: E402

TGSESS = release_dir() / "tgsess"
BOT = release_dir() / "examples/standin_bot"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres():
    """Runs the child as the postgres user when this is root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    user = pwd.getpwnam("postgres")

    def drop():
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return drop


def postgres(tmp: pathlib.Path):
    bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    data = tmp / "pg"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run([f"{bindir}/initdb", "-D", data, "-U", "tgsess", "-A", "trust", "--no-sync"],
                   check=True, capture_output=True, preexec_fn=as_postgres())
    port = free_port()
    server = subprocess.Popen([f"{bindir}/postgres", "-D", data, "-h", "127.0.0.1", "-p",
                               str(port), "-k", data, "-c", "fsync=off"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              preexec_fn=as_postgres())
    for _ in range(300):
        if subprocess.run([f"{bindir}/pg_isready", "-h", "127.0.0.1", "-p", str(port), "-q"]).returncode == 0:
            return server, f"postgresql://tgsess@127.0.0.1:{port}/postgres"
        time.sleep(0.1)
    raise SystemExit("PostgreSQL did not start")


def stamps(path):
    try:
        return [int(l) for l in path.read_text().split()]
    except FileNotFoundError:
        return []


def main() -> int:
    runs = min(int(sys.argv[1]) if len(sys.argv) > 1 else 20, 200)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tgsess-lease-"))
    os.chmod(tmp, 0o755)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "TGSESS_STATE_DIR": str(tmp / "state"),
           "NO_COLOR": "1"}
    pg, url = postgres(tmp)
    sandbox = subprocess.Popen([TGSESS, "sandbox", "--dir", tmp / "sb"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        sandbox.stdout.readline()
        config = tmp / "sb" / "tgsess.toml"
        subprocess.run([TGSESS, "--config", config, "login", "--code-stdin"], input="22222\n",
                       text=True, env=env, check=True, capture_output=True)
        hosts = []
        for name in ("a", "b"):
            (tmp / name).mkdir()
            shutil.copy(tmp / "sb" / "sandbox.session", tmp / name / "sandbox.session")
            hosts.append(dict(env, TGSESS_STATE_DIR=str(tmp / name / "state"), TGSESS_LEASE=url))

        def start(i):
            host = hosts[i % 2]
            out = tmp / f"stamps-{i}"
            session = pathlib.Path(host["TGSESS_STATE_DIR"]).parent / "sandbox.session"
            p = subprocess.Popen([TGSESS, "--config", config, "--session", session, "exec",
                                  "--wait", "60", "--", BOT, "--stamps", out],
                                 env=host, stderr=subprocess.PIPE, text=True)
            return p, out

        old, old_out = start(0)
        while not stamps(old_out):
            time.sleep(0.01)
        gaps = []
        for i in range(1, runs + 1):
            new, new_out = start(i)
            new.stderr.readline()  # "waiting up to 60 s (--wait) for the lease …"
            time.sleep(0.2)
            old.send_signal(signal.SIGTERM)
            old.wait(timeout=30)
            deadline = time.time() + 30
            while not stamps(new_out) and time.time() < deadline:
                time.sleep(0.002)
            last, first = stamps(old_out)[-1], stamps(new_out)[0]
            if first <= last:
                print(f"handover {i}: OVERLAP ({(last - first) / 1e6:.1f} ms)")
                return 1
            gaps.append((first - last) / 1e6)
            old, old_out = new, new_out
        old.send_signal(signal.SIGTERM)
        old.wait(timeout=30)
        print("gaps (ms):", " ".join(f"{g:.0f}" for g in gaps))
        print(f"{runs} handovers: median {statistics.median(gaps):.0f} ms, "
              f"min {min(gaps):.0f} ms, max {max(gaps):.0f} ms (bots stamp every 10 ms)")
        return 0
    finally:
        sandbox.terminate()
        pg.send_signal(signal.SIGINT)
        pg.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
