"""Scenario sweeps: many variants of one scenario, the shared stages computed once.

A sweep file (TOML) names a ``base`` scenario (a built-in name or a scenario file, relative to
the sweep file) and the variants, as a full grid of ``[axes]`` (any dotted scenario key, e.g.
``"optimise.max_sites" = [4, 6, 8]``) and/or a list of named ``[[cases]]`` (``name`` plus dotted
keys). Each case is the base with its values set, validated like any scenario.

The stages of :data:`corridor.workflows.STAGES` read only some sections of the scenario
(:data:`STAGE_SECTIONS`): each stage runs once per distinct value of its sections and its result
is handed to every case that shares it (an axis of ``optimise.max_sites`` builds the graph, the
flows, the candidates, the grid and the instance once; an axis of ``flows.zero_emission_share``
rebuilds the flows and the instance, not the graph, the candidates or the grid). The optimise
stage and the outputs (:func:`corridor.workflows.write_run`) run per case, as a task on a Dask
cluster (:func:`run_sweep`) or one by one in this process (``client=None``).

Each case's run folder is ``DIR/cases/<case_id>/`` with a ``case.json`` record (its values,
status, headline figures and the hash of its resolved config); a rerun skips the cases whose
record has the same hash and a finished status (``ok``, ``infeasible``, ``invalid``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from corridor._files import read_json, read_toml, write_outputs
from corridor.catalogue import Catalogue
from corridor.config import Scenario, _format_validation_error, _model_at, load_scenario
from corridor.errors import CorridorError, InfeasibleError, ScenarioError
from corridor.workflows import STAGES, PlanRun, Stages, run_stage, write_run

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FINISHED",
    "STAGE_SECTIONS",
    "SWEEP_COLUMNS",
    "Case",
    "Sweep",
    "apply_values",
    "case_row",
    "check_key",
    "load_sweep",
    "plan_cost_eur",
    "read_variants_file",
    "run_sweep",
    "shared_stages",
    "solver_threads",
    "stage_key",
]

log = logging.getLogger(__name__)

#: The scenario sections (dotted) each stage reads; a stage's result is shared by the cases
#: whose values of these sections are equal.
STAGE_SECTIONS: dict[str, tuple[str, ...]] = {
    "network": ("network",),
    "flows": ("network", "flows"),
    "sites": ("network", "sites"),
    "grid": ("network", "sites", "grid"),
    "instance": (
        "network",
        "flows",
        "sites",
        "grid",
        "optimise.vehicle",
        "optimise.vehicles",
        "optimise.corridor_axis_deg",
        "optimise.round_trip",
        "optimise.afir_max_gap_km",
        "optimise.afir_min_pool_power_mw",
        # corridor mode builds the instance for the candidate corridors' sites only
        "optimise.corridor",
        "optimise.corridor_candidates",
        "optimise.corridor_buffer_km",
    ),
}

#: The earlier stages whose results a stage (and a case: ``"optimise"``) reads.
STAGE_INPUTS: dict[str, tuple[str, ...]] = {
    "network": (),
    "flows": ("network",),
    "sites": ("network",),
    "grid": ("sites",),
    "instance": ("network", "flows", "sites", "grid"),
    "optimise": ("network", "flows", "sites", "grid", "instance"),
}

#: Statuses of a finished case (a rerun skips it): solved, proven infeasible, invalid config.
FINISHED = ("ok", "infeasible", "invalid")

#: Columns of ``sweep.parquet`` / ``sweep.csv`` after the axis columns.
SWEEP_COLUMNS = (
    "case_id",
    "status",
    "reason",
    "valid",
    "gap",
    "served_trucks_per_day",
    "served_share",
    "sites",
    "chargers",
    "power_mw",
    "energy_mwh_per_day",
    "cost_eur",
    "solve_time_s",
    "case_time_s",
    "corridor",
    "site_ids",
    "config_hash",
)

#: Columns of the table on ``sweep.html`` (after the axes).
_PAGE_COLUMNS = tuple(
    c for c in SWEEP_COLUMNS if c not in ("valid", "case_time_s", "site_ids", "config_hash")
)

Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    """One variant of the base scenario.

    Attributes
    ----------
    case_id
        Stable id and folder name, e.g. ``optimise.max_sites=4``.
    values
        The dotted keys set on the base (the case's name under ``name`` for named cases).
    scenario
        The validated scenario, or None when the values make it invalid (``error`` says why).
    error
        Why the case's config is invalid ('' if valid).
    """

    case_id: str
    values: dict[str, Any]
    scenario: Scenario | None
    error: str = ""

    @property
    def config_hash(self) -> str:
        """SHA-256 (16 hex digits) of the resolved config (of the values when invalid)."""
        text = (
            self.scenario.model_dump_json()
            if self.scenario is not None
            else json.dumps(self.values, sort_keys=True, default=str)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep file: the base scenario, the axis keys and the cases."""

    source: Path
    base: Scenario
    axes: tuple[str, ...]
    cases: tuple[Case, ...] = field(default_factory=tuple)


def check_key(key: str, source: str) -> None:
    """Check that a dotted key names a setting of the scenario schema.

    Raises
    ------
    ScenarioError
        Naming the key, the first unknown part and the keys allowed there.
    """
    parts = key.split(".")
    model: type[BaseModel] = Scenario
    for i, part in enumerate(parts):
        if part not in model.model_fields:
            where = ".".join(parts[:i]) or "(top level)"
            allowed = ", ".join(sorted(model.model_fields))
            msg = (
                f"{source}: '{key}' is not a scenario key ('{part}' unknown under {where}; "
                f"allowed there: {allowed})"
            )
            raise ScenarioError(msg)
        sub = _model_at(tuple(parts[: i + 1]))
        if i < len(parts) - 1 and sub is None:
            msg = f"{source}: '{key}': '{'.'.join(parts[: i + 1])}' is a setting, not a section"
            raise ScenarioError(msg)
        model = sub if sub is not None else model


def apply_values(base: Scenario, values: Mapping[str, Any]) -> Scenario:
    """Return ``base`` with the dotted keys set, validated as a whole scenario.

    Raises
    ------
    pydantic.ValidationError
        If the result is not a valid scenario.
    """
    raw = base.model_dump(mode="python", exclude_unset=False)
    for key, value in values.items():
        *path, last = key.split(".")
        node = raw
        for part in path:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
        node[last] = value
    return Scenario.model_validate(raw)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", text).strip("_") or "case"


def _fmt(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)


def read_variants_file(
    path: Path, what: str, sections: tuple[str, ...]
) -> tuple[dict[str, Any], Scenario]:
    """Read a sweep or roll-out file: its TOML and its ``base`` scenario.

    ``base`` is a built-in scenario name or a scenario file relative to ``path``'s folder.

    Raises
    ------
    ScenarioError
        Naming the file: not TOML, a key other than ``base`` and ``sections``, no ``base``, or
        a base scenario that does not load.
    """
    raw = read_toml(path, what, error=ScenarioError)
    unknown = sorted(set(raw) - {"base", *sections})
    if unknown:
        allowed = ", ".join(("base", *sections))
        msg = f"{what} {path}: unknown keys {unknown}; use {allowed}"
        raise ScenarioError(msg)
    name = raw.get("base")
    if not isinstance(name, str):
        msg = f'{what} {path}: base = "<built-in scenario or scenario .toml>" is missing'
        raise ScenarioError(msg)
    rel = path.parent / name
    return raw, load_scenario(rel if name.endswith(".toml") and rel.is_file() else name)


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file and build its cases.

    Parameters
    ----------
    path
        The sweep TOML: ``base`` (built-in scenario or scenario file relative to the sweep
        file), ``[axes]`` (dotted key = list of values; the full grid) and/or ``[[cases]]``
        (``name`` and dotted keys; each named case is crossed with the axes).

    Returns
    -------
    Sweep

    Raises
    ------
    ScenarioError
        If the file is not TOML, ``base`` is missing or unknown, a key is not a scenario key or
        an axis value does not fit its key (the message names the file and the key). A case
        whose values contradict other settings (e.g. ``max_sites`` below ``min_sites``) is not
        an error here: it is a case with status ``invalid`` and the reason.
    """
    path = Path(path)
    raw, base = read_variants_file(path, "sweep file", ("axes", "cases"))
    source = f"sweep file {path}"
    axes = raw.get("axes", {})
    if not isinstance(axes, dict):
        msg = f'{source}: [axes] must be a table of "section.key" = [values]'
        raise ScenarioError(msg)
    for key, vals in axes.items():
        check_key(key, source)
        if not isinstance(vals, list) or not vals:
            msg = f"{source}: axis '{key}' must be a non-empty list of values, got {vals!r}"
            raise ScenarioError(msg)
    named = raw.get("cases", [{}])
    if not isinstance(named, list) or not all(isinstance(c, dict) for c in named):
        msg = f"{source}: [[cases]] must be tables with a name and dotted keys"
        raise ScenarioError(msg)
    cases: list[Case] = []
    for spec in named:
        spec = dict(spec)
        name = spec.pop("name", "")
        if "cases" in raw and not name:
            msg = f"{source}: every [[cases]] table needs a name"
            raise ScenarioError(msg)
        for key in spec:
            check_key(key, source)
        for combo in itertools.product(*axes.values()):
            values = {**spec, **dict(zip(axes, combo, strict=True))}
            parts = [str(name)] if name else []
            parts += [f"{k}={_fmt(v)}" for k, v in zip(axes, combo, strict=True)]
            case_id = _slug("__".join(parts) or "base")
            cases.append(_case(case_id, name, values, base, source))
    ids = [c.case_id for c in cases]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        msg = f"{source}: case ids {dup} occur twice; give the cases distinct names"
        raise ScenarioError(msg)
    return Sweep(path, base, tuple(axes), tuple(cases))


def _case(case_id: str, name: str, values: dict[str, Any], base: Scenario, source: str) -> Case:
    shown = {"name": name, **values} if name else values
    try:
        scenario = apply_values(base, values)
    except ValidationError as exc:
        own = [e for e in exc.errors() if ".".join(map(str, e["loc"])) in values]
        text = _format_validation_error(exc, f"{source} case {case_id}")
        if own:  # the value itself does not fit its key: bad input, not a case outcome
            raise ScenarioError(text) from None
        return Case(case_id, shown, None, text.split(": ", 1)[1])
    return Case(case_id, shown, scenario)


def stage_key(stage: str, scenario: Scenario) -> str:
    """Key of a stage's result: the stage and a hash of the sections it reads.

    Two cases with equal keys share the stage's result.
    """
    include: dict[str, Any] = {}
    for dotted in STAGE_SECTIONS[stage]:
        section, _, key = dotted.partition(".")
        if key:
            cur = include.setdefault(section, set())
            if isinstance(cur, set):
                cur.add(key)
        else:
            include[section] = True
    text = scenario.model_dump_json(include=include)
    return f"{stage}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _merged(scenario: Scenario, parts: Iterable[Stages]) -> Stages:
    st = Stages(scenario)
    for part in parts:
        for f in fields(Stages):
            if f.name in ("scenario", "timings_s"):
                continue
            value = getattr(part, f.name)
            if value is not None:
                setattr(st, f.name, value)
        st.timings_s.update(part.timings_s)
    return st


def compute_stage(stage: str, scenario: Scenario, catalogue: Catalogue, *parts: Stages) -> Stages:
    """Run one stage from the results of the stages it reads; return only its own results.

    The task of a shared stage (the result holds no copy of its inputs, so handing it to other
    workers moves only what the stage made).
    """
    st = _merged(scenario, parts)
    before = {f.name: getattr(st, f.name) for f in fields(Stages)}
    t0 = time.perf_counter()
    run_stage(stage, st, catalogue)
    own = Stages(scenario, timings_s={stage: time.perf_counter() - t0})
    for f in fields(Stages):
        if f.name not in ("scenario", "timings_s") and getattr(st, f.name) is not before[f.name]:
            setattr(own, f.name, getattr(st, f.name))
    return own


def shared_stages(scenario: Scenario, catalogue: Catalogue, cache: dict[str, Stages]) -> Stages:
    """Run the stages up to the instance for ``scenario``, each from ``cache`` when computed.

    In-process counterpart of the sweep's tasks (a staged roll-out's stages share the graph,
    the candidates and the grid; only the flows of each year are new).

    Parameters
    ----------
    scenario
        The scenario.
    catalogue
        Where the input data lives.
    cache
        Stage results by :func:`stage_key`; filled with what is computed here.
    """
    parts: dict[str, Stages] = {}
    for stage in STAGE_SECTIONS:
        key = stage_key(stage, scenario)
        if key not in cache:
            deps = [parts[s] for s in STAGE_INPUTS[stage]]
            cache[key] = compute_stage(stage, scenario, catalogue, *deps)
        parts[stage] = cache[key]
    return _merged(scenario, parts.values())


def solver_threads(cores: int, tasks_at_once: int) -> int:
    """Solver threads per task so that ``tasks_at_once`` tasks use at most ``cores`` cores."""
    return max(1, cores // max(1, tasks_at_once))


def case_row(case: Case) -> dict[str, Any]:
    """Return the first columns of a case's row: its id, values (and ``name``) and hash."""
    return {"case_id": case.case_id, **case.values, "config_hash": case.config_hash}


def plan_cost_eur(st: Stages) -> float:
    """Capital cost of a solved plan as its scenario prices it: sites + chargers + batteries.

    Returns
    -------
    float
        Site ``cost_eur`` + chargers × ``optimise.charger_cost_eur`` + battery MWh ×
        ``optimise.battery_cost_eur_per_mwh`` (EUR; 0 when the scenario prices none).
    """
    opt = st.scenario.optimise
    sites = st.plan.sites
    if not len(sites):
        return 0.0
    cost = st.instance.sites.reindex(sites.index)["cost_eur"].fillna(0.0).sum()
    cost += float(sites["chargers"].sum()) * opt.charger_cost_eur
    cost += float(sites["battery_mwh"].fillna(0.0).sum()) * opt.battery_cost_eur_per_mwh
    return float(cost)


def run_case(
    case: Case, catalogue: Catalogue, out_dir: str, threads: int | None, *parts: Stages
) -> dict[str, Any]:
    """Solve one case from the shared stages, write its run folder and ``case.json``.

    The task of a case. An infeasible case is a result (status ``infeasible`` with the reason),
    not an error; any other error propagates (the sweep reports it for this case only).

    Returns
    -------
    dict
        The case's row (:data:`SWEEP_COLUMNS` and its values) and ``plan_sites`` (id, name,
        lon, lat, country, chargers of each open site).
    """
    from corridor.outputs.summary import headline

    t0 = time.perf_counter()
    sc = case.scenario
    assert sc is not None
    if threads and sc.optimise.threads is None:
        sc = sc.model_copy(update={"optimise": sc.optimise.model_copy(update={"threads": threads})})
    st = _merged(sc, parts)
    row = case_row(case)
    folder = Path(out_dir) / "cases" / case.case_id
    try:
        run_stage("optimise", st, catalogue)
        if st.plan.status == "infeasible":
            reason = st.plan.model_stats.get("reason", "")
            raise InfeasibleError(f"no feasible plan ({reason})")
    except InfeasibleError as exc:
        row.update(status="infeasible", reason=str(exc), plan_sites=[])
        row["case_time_s"] = time.perf_counter() - t0
        _write_record(folder, row)
        return row
    write_run(PlanRun.from_stages(st), folder)
    doc = read_json(folder / "plan.json", "plan file")
    head = headline(doc)
    row.update(
        status="ok",
        reason="",
        valid=head["valid"],
        gap=head["gap"],
        served_trucks_per_day=head["served_trucks_per_day"],
        served_share=head["served_share"],
        sites=head["sites"],
        chargers=head["chargers"],
        power_mw=head["power_mw"],
        energy_mwh_per_day=head["energy_mwh_per_day"],
        cost_eur=plan_cost_eur(st),
        solve_time_s=head["solve_time_s"],
        corridor=head["corridor"],
        site_ids=";".join(str(s["site_id"]) for s in doc.get("sites", [])),
        plan_sites=[
            {k: s.get(k) for k in ("site_id", "name", "lon", "lat", "country", "chargers")}
            for s in doc.get("sites", [])
        ],
    )
    row["case_time_s"] = time.perf_counter() - t0
    _write_record(folder, row)
    return row


def _write_record(folder: Path, row: Mapping[str, Any]) -> None:
    from corridor.outputs.plan import write_json

    write_outputs(folder, {"case.json": lambda p: write_json(dict(row), p)}, kind="sweep-case")


def _finished(out_dir: Path, case: Case) -> dict[str, Any] | None:
    """Return the recorded row of a case finished earlier with the same config hash, or None."""
    record = out_dir / "cases" / case.case_id / "case.json"
    if not record.is_file():
        return None
    try:
        row = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = row.get("config_hash") == case.config_hash and row.get("status") in FINISHED
    return row if ok else None


class _Serial:
    """Runs the tasks in this process, one by one, with the same keys as on Dask."""

    def __init__(self) -> None:
        self.memo: dict[str, tuple[bool, Any]] = {}

    def submit(self, fn: Callable, *args: Any, key: str) -> str:
        if key in self.memo:
            return key
        vals = []
        for a in args:
            if isinstance(a, _Ref):
                ok, v = self.memo[a.key]
                if not ok:
                    self.memo[key] = (False, v)
                    return key
                vals.append(v)
            else:
                vals.append(a)
        try:
            self.memo[key] = (True, fn(*vals))
        except Exception as exc:  # reported as the case's error
            self.memo[key] = (False, exc)
        return key


@dataclass(frozen=True)
class _Ref:
    key: str


def run_sweep(
    sweep: Sweep,
    catalogue: Catalogue,
    out_dir: str | Path,
    *,
    client: Any | None = None,
    reuse: bool = True,
    threads: int | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Run the cases of a sweep (skipping those finished before) and write the sweep outputs.

    Parameters
    ----------
    sweep
        From :func:`load_sweep`.
    catalogue
        Where the input data lives (workers must see it at the same path).
    out_dir
        The sweep folder: ``cases/<case_id>/`` (run folders with ``case.json``),
        ``sweep.parquet``, ``sweep.csv``, the charts and ``sweep.html``.
    client
        A ``dask.distributed.Client``: each stage and case is a task on its cluster; None: run
        them one by one in this process.
    reuse
        Share each stage's result between the cases with the same inputs (off: every case
        recomputes its stages; for benchmarking).
    threads
        Solver threads per case (``optimise.threads`` when the scenario leaves it unset).
    progress
        Called with each case's row as it finishes (also for skipped and invalid cases).

    Returns
    -------
    pandas.DataFrame
        One row per case (:data:`SWEEP_COLUMNS` plus the axes), in the sweep file's order.
    """
    out = Path(out_dir).absolute()
    rows: dict[str, dict[str, Any]] = {}
    todo: list[Case] = []
    for case in sweep.cases:
        done = _finished(out, case)
        if done is not None:
            done["skipped"] = True
            rows[case.case_id] = done
        elif case.scenario is None:
            row = {**case_row(case), "status": "invalid", "reason": case.error, "plan_sites": []}
            _write_record(out / "cases" / case.case_id, row)
            rows[case.case_id] = row
        else:
            todo.append(case)
            continue
        if progress:
            progress(rows[case.case_id])
    runner: Any = client if client is not None else _Serial()
    refs: dict[str, Any] = {}

    def submit(stage: str, case: Case) -> Any:
        sc = case.scenario
        key = (
            stage_key(stage, sc)
            if stage != "optimise"
            else f"case-{case.case_id}-{case.config_hash}"
        )
        if not reuse and stage != "optimise":
            key = f"{key}-{case.config_hash}"
        if key not in refs:
            deps = [submit(s, case) for s in STAGE_INPUTS[stage]]
            if stage == "optimise":
                fn, args = run_case, (case, catalogue, str(out), threads, *deps)
            else:
                fn, args = compute_stage, (stage, sc, catalogue, *deps)
            if client is not None:
                refs[key] = client.submit(fn, *args, key=key, pure=False)
            else:
                refs[key] = _Ref(runner.submit(fn, *args, key=key))
        return refs[key]

    if client is not None:
        from distributed import as_completed

        futures = {}
        for c in todo:
            fut = submit("optimise", c)
            futures[fut.key] = (fut, c)
        refs.clear()  # the cases hold their stages; Dask releases each when its cases are done
        for fut in as_completed([f for f, _ in futures.values()]):
            case = futures.pop(fut.key)[1]
            ok = fut.status == "finished"
            rows[case.case_id] = _collect_value(
                ok, fut.result() if ok else fut.exception(), case, out
            )
            if progress:
                progress(rows[case.case_id])
            fut.release()
    else:
        need = {c.case_id: _stage_keys(c, reuse) for c in todo}
        for i, case in enumerate(todo):
            ref = submit("optimise", case)
            ok, value = runner.memo.pop(ref.key)
            rows[case.case_id] = _collect_value(ok, value, case, out)
            if progress:
                progress(rows[case.case_id])
            later = set().union(*(need[c.case_id] for c in todo[i + 1 :]))
            for key in need[case.case_id] - later:
                runner.memo.pop(key, None)
                refs.pop(key, None)
    frame = _frame([rows[c.case_id] for c in sweep.cases], sweep.axes)
    _write_sweep(out, frame, [rows[c.case_id] for c in sweep.cases], sweep, catalogue)
    return frame


def _stage_keys(case: Case, reuse: bool) -> set[str]:
    suffix = "" if reuse else f"-{case.config_hash}"
    return {stage_key(s, case.scenario) + suffix for s in STAGES if s in STAGE_SECTIONS}


def _collect_value(ok: bool, value: Any, case: Case, out: Path) -> dict[str, Any]:
    if ok:
        return value
    reason = str(value) if isinstance(value, CorridorError) else f"{type(value).__name__}: {value}"
    row = {**case_row(case), "status": "error", "reason": " ".join(reason.split())}
    row["plan_sites"] = []
    _write_record(out / "cases" / case.case_id, row)
    return row


def _frame(rows: Sequence[Mapping[str, Any]], axes: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    named = any("name" in r for r in rows)
    cols = [*(["name"] if named else []), *axes, *SWEEP_COLUMNS]
    frame = pd.DataFrame([{k: r.get(k) for k in cols} for r in rows], columns=cols)
    for c in ("gap", "served_trucks_per_day", "served_share", "power_mw", "energy_mwh_per_day"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    for c in ("cost_eur", "solve_time_s", "case_time_s"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    frame["sites"] = pd.to_numeric(frame["sites"], errors="coerce").astype("Int64")
    frame["chargers"] = pd.to_numeric(frame["chargers"], errors="coerce").astype("Int64")
    frame["valid"] = frame["valid"].astype("boolean")
    for c in axes:
        if frame[c].map(lambda v: isinstance(v, list | dict)).any():
            frame[c] = frame[c].map(_fmt)
    return frame


def _write_sweep(
    out: Path,
    frame: pd.DataFrame,
    rows: Sequence[Mapping[str, Any]],
    sweep: Sweep,
    catalogue: Catalogue,
) -> None:
    from corridor.outputs.charts import (
        site_counts,
        sweep_charts,
        sweep_html,
    )

    counts = site_counts(rows)
    charts = sweep_charts(frame, sweep.axes, counts, catalogue)
    writers: dict[str, Callable[[Path], object]] = {
        "sweep.parquet": lambda p: frame.to_parquet(p, index=False),
        "sweep.csv": lambda p: frame.to_csv(p, index=False),
        "sites.csv": lambda p: counts.to_csv(p, index=False),
    }
    for name, draw in charts.items():
        writers[name] = draw
    title = f"Sweep of {sweep.base.name} ({sweep.source.name})"
    writers["sweep.html"] = lambda p: p.write_text(
        sweep_html(title, frame, list(charts), sweep.axes, _PAGE_COLUMNS), encoding="utf-8"
    )
    write_outputs(out, writers, kind="sweep")


def cores() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def local_cluster(workers: int | None = None, *, processes: bool = True) -> Any:
    """Start a ``dask.distributed`` LocalCluster sized to the machine, one thread per worker.

    Parameters
    ----------
    workers
        Worker count (default: the cores, :func:`cores`).
    processes
        Workers as processes (the default; the stages and the solver hold the GIL) or threads.
    """
    from distributed import LocalCluster

    n = workers or cores()
    return LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=":0",  # a free port (the scheduler serves HTTP in any case)
        silence_logs=logging.CRITICAL,  # failures are reported per case
    )


def _host_cores() -> tuple[str, int]:
    import socket

    return socket.gethostname(), cores()


def cluster_threads(client: Any) -> int:
    """Solver threads per task on a cluster so that no host runs more threads than cores.

    The workers on one host share its cores: each task gets the host's cores over the task
    threads of all its workers (at least 1); the smallest over the hosts.
    """
    where = client.run(_host_cores)
    nthreads = client.nthreads()
    if not nthreads or not where:
        return 1
    tasks: dict[str, int] = {}
    host_cores: dict[str, int] = {}
    for worker, n in nthreads.items():
        host, n_cores = where.get(worker, ("?", 1))
        tasks[host] = tasks.get(host, 0) + n
        host_cores[host] = n_cores
    return min(solver_threads(host_cores[h], n) for h, n in tasks.items())
