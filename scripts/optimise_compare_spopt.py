"""Compare corridor's optimiser with ``spopt.locate.FRLM`` on identical instances.

spopt is not a corridor dependency, and spopt 0.8 needs ``pulp<4`` while corridor uses PuLP 4, so
spopt runs in its own Python environment: pass its interpreter with ``--spopt-python``. Without
it, or when spopt is not importable there, the spopt side is skipped with a message.

Both sides get the same sparse network (km), OD flows, candidate nodes (all nodes), range and p.
spopt's FRLM follows Kuby & Lim (2005): round trips starting with half a tank, so corridor is run
with ``Instance.from_arrays(..., round_trip=True, start_range_km=range_km / 2)``.

Usage::

    python scripts/optimise_compare_spopt.py --country NL --range-km 150 --p 4 \
        --spopt-python /tmp/spopt-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import sparse

from corridor.catalogue import resolve_data_root
from corridor.config import OptimiseConfig

log = logging.getLogger("optimise_compare_spopt")

# runs inside the spopt environment: reads the instance, solves FRLM, prints JSON
_SPOPT_RUNNER = """
import json, sys, time
import numpy as np, pandas as pd, pulp
from scipy import sparse
from spopt.locate import FRLM
d = np.load(sys.argv[1])
mat = sparse.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"]))
flows = pd.DataFrame({"origin": d["o"], "destination": d["d"], "volume": d["vol"]})
t0 = time.perf_counter()
m = FRLM.from_flow_dataframe(mat, flows, vehicle_range=float(d["range_km"]),
                             p_facilities=int(d["p"]))
solver = pulp.HiGHS(msg=False) if "HiGHS" in pulp.listSolvers(onlyAvailable=True) else None
out = m.solve(solver)
out["time_s"] = time.perf_counter() - t0
print(json.dumps(out, default=str))
"""


def _etisplus(folder: Path, ze_share: float, max_flows: int | None):

    import networkx as nx
    import pandas as pd

    g = nx.read_graphml(folder / "graph.graphml")
    nodes = sorted(g.nodes, key=str)
    index = {n: i for i, n in enumerate(nodes)}
    rows, cols, km = zip(
        *((index[u], index[v], float(a["distance"])) for u, v, a in g.edges(data=True)),
        strict=True,
    )
    mat = sparse.coo_array((km, (rows, cols)), shape=(len(nodes), len(nodes))).tocsr()
    t = pd.read_csv(folder / "traffic.csv", dtype={"origin": str, "destination": str})
    t = t[t["origin"].isin(index) & t["destination"].isin(index) & (t.origin != t.destination)]
    t = t.sort_values("volume", ascending=False).head(max_flows) if max_flows else t
    return (
        mat,
        t["origin"].map(index).to_numpy(),
        t["destination"].map(index).to_numpy(),
        t["volume"].to_numpy(float) / 300.0 * ze_share,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--country", default="NL")
    ap.add_argument("--range-km", type=float, default=150.0)
    ap.add_argument("--p", type=int, default=4)
    ap.add_argument("--max-flows", type=int, default=300, help="largest OD flows kept")
    ap.add_argument("--ze-share", type=float, default=1.0)
    ap.add_argument("--spopt-python", default=None, help="python of an env with spopt")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from corridor.optimise import Instance, solve

    folder = resolve_data_root() / "flows" / "etisplus_countries" / args.country
    mat, o, d, vol = _etisplus(folder, args.ze_share, args.max_flows)
    t0 = time.perf_counter()
    inst = Instance.from_arrays(
        mat,
        o,
        d,
        vol,
        list(range(mat.shape[0])),
        args.range_km,
        start_range_km=args.range_km / 2.0,
        round_trip=True,
    )
    plan = solve(inst, OptimiseConfig(min_sites=0, max_sites=args.p, round_trip=True))
    mine = {
        "status": plan.status,
        "served_volume": round(
            plan.served_trucks_per_day + plan.model_stats["trucks_already_feasible_per_day"], 3
        ),
        "sites": sorted(int(s) for s in plan.open_site_ids),
        "gap": plan.gap,
        "time_s": round(time.perf_counter() - t0, 2),
        "violations": len(plan.violations),
    }
    log.info("corridor: %s", mine)
    if not args.spopt_python:
        log.info("spopt side skipped: pass --spopt-python (spopt needs pulp<4, its own venv)")
        return
    csr = sparse.csr_matrix(mat)
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "instance.npz"
        np.savez(
            npz,
            data=csr.data,
            indices=csr.indices,
            indptr=csr.indptr,
            shape=np.array(csr.shape),
            o=o,
            d=d,
            vol=vol,
            range_km=args.range_km,
            p=args.p,
        )
        runner = Path(tmp) / "run_spopt.py"
        runner.write_text(_SPOPT_RUNNER)
        proc = subprocess.run(
            [args.spopt_python, str(runner), str(npz)], capture_output=True, text=True, check=False
        )
    if proc.returncode != 0:
        log.info("spopt side skipped: %s", proc.stderr.strip().splitlines()[-1:])
        return
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    log.info("spopt FRLM: %s", theirs)


if __name__ == "__main__":
    main()
