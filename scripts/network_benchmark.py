"""Benchmark the road graph: cold build and cached reload of the full shared OSM layer.

Each run is a fresh subprocess (so peak memory is per run): cold = empty cache folder, reload =
the cache written by the cold run. Prints one JSON object with the medians.

Usage: python scripts/network_benchmark.py [--repeat 3] [--countries NL DE BE DK] [--coarse SE NO]

The whole shared layer (NL, all of DE, BE, DK) is ``--countries NL DE BE DK``; ``--coarse SE NO``
joins the ETISplus links of Sweden and Norway (``network.coarse_countries``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

_CHILD = """
import json, resource, time
from corridor.catalogue import Catalogue
from corridor.config import NetworkConfig
from corridor.network import load_graph
t = time.perf_counter()
cfg = NetworkConfig(countries={countries!r}, coarse_countries={coarse!r})
G = load_graph(Catalogue.from_env(), cfg, cache_dir={cache!r})
dt = time.perf_counter() - t
rep = G.graph["build_report"]
print(json.dumps({{"status": G.graph["cache"]["status"], "seconds": dt,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "nodes": rep["nodes"], "edges": rep["edges"], "km_by_class": rep["km_by_class"],
    "input_km_by_class": rep["input_km_by_class"],
    "duplicate_geometries_removed": rep.get("duplicate_geometries_removed"),
    "by_country": rep.get("by_country")}}))
"""


def _run(countries: tuple[str, ...], cache: str, coarse: tuple[str, ...] = ()) -> dict:
    code = _CHILD.format(countries=countries, cache=cache, coarse=coarse)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and return (and print) the medians."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--countries", nargs="+", default=["NL", "DE", "DK"])
    ap.add_argument("--coarse", nargs="*", default=[], help="coarse (ETISplus) countries")
    args = ap.parse_args(argv)
    countries = tuple(args.countries)
    coarse = tuple(args.coarse)
    cold, warm = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(_run(countries, cache, coarse))
            warm.append(_run(countries, cache, coarse))
    last = cold[-1]
    result = {
        "countries": countries,
        "coarse_countries": coarse,
        "repeat": args.repeat,
        "cold_build_s_median": statistics.median(r["seconds"] for r in cold),
        "cold_peak_rss_mb_median": statistics.median(r["peak_rss_mb"] for r in cold),
        "reload_s_median": statistics.median(r["seconds"] for r in warm),
        "reload_peak_rss_mb_median": statistics.median(r["peak_rss_mb"] for r in warm),
        "nodes": last["nodes"],
        "edges": last["edges"],
        "motorway_km_kept_share": last["km_by_class"].get("motorway", 0.0)
        / max(last["input_km_by_class"].get("motorway", 1.0), 1e-9),
        "duplicate_geometries_removed": last["duplicate_geometries_removed"],
        "by_country": last["by_country"],
    }
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
