"""Wall time and peak memory of one sweep: serially vs on a Dask LocalCluster, stages shared or not.

Usage::

    python scripts/sweep_benchmark.py [SWEEP.toml] [--modes serial,dask,dask-recompute]
        [--workers 2] [--keep DIR]

Every mode runs the whole sweep into a fresh output folder (nothing is skipped):

- ``serial``: the cases one by one in this process, each stage computed once per distinct input;
- ``serial-recompute``: one by one, every case computing all its stages;
- ``dask``: a LocalCluster of ``--workers`` processes (one thread each, solver threads = cores /
  workers), stages shared;
- ``dask-recompute``: the same cluster, every case computing all its stages.

Peak memory is the largest sum of the resident set sizes of this process and its children (the
Dask workers), sampled every 0.5 s. The default sweep is
``corridor/data/examples/sweep_max_sites.toml`` (``optimise.max_sites`` = 2..12 on the
default scenario). Results are printed as a table (and the per-case rows of the last mode).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import threading
import time
from pathlib import Path

import psutil

from corridor.catalogue import Catalogue
from corridor.sweep import cores, load_sweep, local_cluster, run_sweep, solver_threads

DEFAULT = Path(__file__).resolve().parent.parent / "corridor/data/examples/sweep_max_sites.toml"


class PeakMemory:
    """Sample the summed RSS of this process and its children in a background thread."""

    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s = every_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a child that just ended
                    total += p.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def one_mode(mode: str, sweep_file: Path, workers: int, out: Path) -> dict:
    """Run the sweep once in ``mode``; return wall time, peak memory and the case table."""
    sweep = load_sweep(sweep_file)
    cat = Catalogue.from_env()
    reuse = not mode.endswith("-recompute")
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        if mode.startswith("dask"):
            from distributed import Client

            cluster = local_cluster(workers)
            try:
                with Client(cluster) as client:
                    t_cluster = time.perf_counter() - t0
                    frame = run_sweep(
                        sweep,
                        cat,
                        out,
                        client=client,
                        reuse=reuse,
                        threads=solver_threads(cores(), workers),
                    )
            finally:
                cluster.close()
        else:
            t_cluster = 0.0
            frame = run_sweep(sweep, cat, out, reuse=reuse, threads=cores())
        wall = time.perf_counter() - t0
    return {
        "mode": mode,
        "wall_s": wall,
        "cluster_start_s": t_cluster,
        "peak_mb": mem.peak_mb,
        "solved": int((frame["status"] == "ok").sum()),
        "cases": len(frame),
        "frame": frame,
    }


def main() -> None:
    """Parse arguments, run the modes, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--modes", default="serial,dask,dask-recompute")
    ap.add_argument("--workers", type=int, default=cores())
    ap.add_argument("--keep", type=Path, help="keep the output folders here")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for mode in args.modes.split(","):
            res = one_mode(mode, args.sweep, args.workers, root / mode)
            results.append(res)
            print(
                f"{mode:18s} {res['wall_s']:7.1f} s wall (cluster start "
                f"{res['cluster_start_s']:.1f} s), peak RSS {res['peak_mb']:6.0f} MB, "
                f"{res['solved']}/{res['cases']} solved",
                flush=True,
            )
    print(f"\n{args.sweep.name}, {cores()} cores, {args.workers} Dask workers")
    print(f"{'mode':18s} {'wall s':>8s} {'peak MB':>8s} {'solved':>7s}")
    for r in results:
        print(
            f"{r['mode']:18s} {r['wall_s']:8.1f} {r['peak_mb']:8.0f} {r['solved']:4d}/{r['cases']}"
        )
    first = results[0]["frame"].set_index("case_id")["served_trucks_per_day"]
    for r in results[1:]:
        other = r["frame"].set_index("case_id")["served_trucks_per_day"]
        same = ((first - other).abs().fillna(0) < 1e-6).all()
        print(f"{r['mode']}: same served trucks/day per case as {results[0]['mode']}: {same}")
    cols = ["case_id", "status", "gap", "served_trucks_per_day", "sites", "chargers", "power_mw"]
    print(results[-1]["frame"][cols].to_string(index=False))


if __name__ == "__main__":
    main()
