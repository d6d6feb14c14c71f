"""Wall time and peak memory of ``corridor plan`` (median of N runs, each a fresh process).

Usage::

    python scripts/plan_benchmark.py [SCENARIO] [--repeat 3] [--cold]

``--cold`` points the graph cache at an empty temporary folder for every run, so the road graph
is built from the OSM lines each time; otherwise the cached graph is reused (the normal case
after the first run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_run(scenario: str, cold: bool) -> tuple[float, float]:
    """Run ``corridor plan`` once in a child process; return (wall s, peak RSS MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        if cold:
            env["CORRIDOR_CACHE"] = str(Path(tmp) / "cache")
        cmd = [sys.executable, "-m", "corridor", "plan", scenario, "--out", str(Path(tmp) / "out")]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _pid, wait_status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        status = os.waitstatus_to_exitcode(wait_status)
        if status != 0:
            raise SystemExit(f"corridor plan failed ({status}): {proc.stderr.read().decode()}")
        return wall, usage.ru_maxrss / 1024.0


def main() -> None:
    """Parse arguments, run, print the medians."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="nl-de-bev-pilot")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold", action="store_true", help="rebuild the road graph every run")
    args = ap.parse_args()
    runs = [one_run(args.scenario, args.cold) for _ in range(args.repeat)]
    walls, rss = zip(*runs, strict=True)
    for i, (w, m) in enumerate(runs, 1):
        print(f"run {i}: {w:6.1f} s wall, peak RSS {m:7.0f} MB")
    mode = "cold graph" if args.cold else "cached graph"
    print(
        f"{args.scenario} ({mode}), {os.cpu_count()} cores: median "
        f"{statistics.median(walls):.1f} s wall, peak RSS {statistics.median(rss):.0f} MB"
    )


if __name__ == "__main__":
    main()
