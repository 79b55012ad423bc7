#!/usr/bin/env python3
"""Whole-process benchmark of `tgsess check`, documented in the README.

    cargo build --release && python3 scripts/bench.py [target/<host tuple>/release/tgsess] [runs]

Starts a `tgsess sandbox` on 127.0.0.1 in a temporary directory, logs in against it with
--code-stdin, then times `/bin/true` (the floor: a process start), `tgsess check --offline`
and `tgsess check` (online, against the local sandbox) as whole processes and prints the
median, p90, the offline check's ratio to /bin/true, and the peak RSS. The three commands
take turns, run by run. Loopback only; the number of runs is bounded.
"""

import contextlib
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def release_dir() -> pathlib.Path:
    """Where `cargo build --release` puts tgsess: .cargo/config.toml builds for the host's
    target tuple, so the outputs are under target/<tuple>/."""
    info = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    host = next(line.split(": ", 1)[1] for line in info.splitlines() if line.startswith("host: "))
    return pathlib.Path(__file__).resolve().parent.parent / "target" / host / "release"


@contextlib.contextmanager
def signed_in(binary: str, logins: int = 1):
    """A `tgsess sandbox` on 127.0.0.1 in a temporary directory and its config signed in with
    --code-stdin, logged in `logins` times from a reset: yields the config's path, the
    environment to run tgsess in, and each login's time in ms. Stops the sandbox after."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tgsess-bench-"))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "TGSESS_STATE_DIR": str(tmp / "state"),
        "NO_COLOR": "1",
    }
    sandbox = subprocess.Popen(
        [binary, "sandbox", "--dir", str(tmp / "sb"), "--password", "bench"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        line = sandbox.stdout.readline().strip()
        if not line.startswith("tgsess sandbox listening on 127.0.0.1:"):
            raise SystemExit(f"sandbox did not start: {line}")
        config = str(tmp / "sb" / "tgsess.toml")
        times = []
        for _ in range(logins):
            subprocess.run([binary, "--config", config, "reset", "--yes"], env=env,
                           capture_output=True)
            t0 = time.perf_counter()
            login = subprocess.run(
                [binary, "--config", config, "login", "--code-stdin", "--fresh"],
                input="22222\n",
                capture_output=True,
                text=True,
                env=dict(env, TGSESS_PASSWORD="bench"),
                timeout=60,
            )
            times.append((time.perf_counter() - t0) * 1000)
            if login.returncode != 0:
                raise SystemExit(f"login failed: {login.stdout} {login.stderr}")
        yield config, env, times
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


def main() -> int:
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else release_dir() / "tgsess")
    runs = min(int(sys.argv[2]) if len(sys.argv) > 2 else 200, 2000)
    with signed_in(binary, logins=5) as (config, env, logins):
        results = {"login with 2FA": sorted(logins)}
        commands = [
            ("/bin/true", ["/bin/true"]),
            ("check --offline", [binary, "--config", config, "check", "--offline", "-q"]),
            ("check (sandbox)", [binary, "--config", config, "check", "-q"]),
        ]
        # Round robin: timings on a shared virtual machine drift from minute to minute, and
        # alternating the commands gives each the same drift, which a ratio then cancels.
        for name, _ in commands:
            results[name] = []
        for _ in range(runs):
            for name, argv in commands:
                t0 = time.perf_counter()
                r = subprocess.run(argv, env=env)
                results[name].append((time.perf_counter() - t0) * 1000)
                if r.returncode != 0:
                    print(f"{name}: exit {r.returncode}")
                    return 1
        for name, _ in commands:
            results[name].sort()
        ratio = statistics.median(results["check --offline"]) / statistics.median(
            results["/bin/true"]
        )
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"{runs} runs each, {os.cpu_count()} cores, binary {binary}")
        for name, times in results.items():
            p90 = times[max(int(len(times) * 0.9) - 1, 0)]
            print(
                f"{name:18} median {statistics.median(times):6.2f} ms   p90 {p90:6.2f} ms   "
                f"min {times[0]:6.2f} ms"
            )
        print(f"check --offline takes {ratio:.2f} times /bin/true (medians)")
        print(f"peak RSS of any child process: {peak_kib / 1024:.1f} MiB")
        import startup_order  # imports this module: imported here, once both are loaded

        found, listed = startup_order.present(binary)
        print(f"start-up order (docs/startup-order.md): the binary has {found} of its "
              f"{listed} symbols")
        return 0


if __name__ == "__main__":
    sys.exit(main())
