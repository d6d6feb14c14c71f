"""Scenario configuration: one frozen pydantic model per pipeline stage.

A :class:`Scenario` is loaded from TOML (built-in ones live in ``corridor/data/scenarios/``).
Every field carries its unit in its name or description. Unknown keys and bad values are rejected
with the key path and the allowed values, see :func:`load_scenario`.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from corridor._files import DATA_DIR, read_toml
from corridor._validate import GRAPH_CRS, require_projected_crs
from corridor.errors import ScenarioError

__all__ = [
    "GERMAN_LAENDER",
    "SCENARIO_DIR",
    "ChargerOption",
    "FlowsConfig",
    "GermanyAssumption",
    "GridConfig",
    "NetworkConfig",
    "OptimiseConfig",
    "OutputsConfig",
    "Scenario",
    "SitesConfig",
    "VehicleClassConfig",
    "VehicleConfig",
    "builtin_scenarios",
    "load_scenario",
]

#: Folder of the built-in scenarios (``corridor/data/scenarios`` in the package).
SCENARIO_DIR = DATA_DIR / "scenarios"

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
HighwayClass = Literal["motorway", "motorway_link", "trunk", "trunk_link"]
Technology = Literal["bev", "h2"]


class _Frozen(BaseModel):
    # nan / inf are never valid settings (an infinite battery or a nan target)
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class NetworkConfig(_Frozen):
    """Road graph built from OpenStreetMap motorway/trunk lines."""

    countries: tuple[CountryCode, ...] = Field(
        ("NL", "DE"),
        description="ISO country codes whose road layers are loaded (files named CC_*.geojson).",
    )
    highway_classes: tuple[HighwayClass, ...] = Field(
        ("motorway", "motorway_link", "trunk", "trunk_link"),
        description="OSM highway classes kept in the truck graph.",
    )
    bbox_lonlat: tuple[float, float, float, float] | None = Field(
        None, description="Optional clip box (min_lon, min_lat, max_lon, max_lat) in degrees."
    )
    nuts_ids: tuple[Annotated[str, Field(pattern=r"^[A-Z]{2}[A-Z0-9]{0,3}$")], ...] | None = Field(
        None,
        description=(
            "Optional NUTS 2021 region ids of any level (e.g. 'NL41', 'DEA'); the road lines are "
            "clipped to the union of these (1:60M) polygons before building. When set, the road "
            "layers of their countries are loaded instead of `countries`."
        ),
    )
    polygon_file: Path | None = Field(
        None,
        description=(
            "Optional polygon file (GeoJSON/GeoPackage, any CRS); the road lines are clipped to "
            "the union of its polygons before building."
        ),
    )
    snap_tolerance_m: float = Field(
        20.0,
        ge=0,
        le=50,
        description=(
            "Dangling line ends closer than this (m) to a line they continue or merge into are "
            "joined (direction-aware, never onto the opposite carriageway). The 2021 vector-tile "
            "layer has gaps of 5–20 m at junctions."
        ),
    )
    ramp_connector_m: float = Field(
        300.0,
        ge=0,
        le=2000,
        description=(
            "Dead-end ramp arrivals are linked to departing ramp starts within this distance (m) "
            "by straight 'connector' edges standing in for the unmapped local roads of an "
            "interchange. 0 disables."
        ),
    )
    connector_speed_kph: float = Field(
        30.0, gt=0, description="Truck speed on interchange connector edges (km/h)."
    )
    speed_kph: dict[HighwayClass, float] = Field(
        default_factory=lambda: {
            "motorway": 80.0,
            "motorway_link": 60.0,
            "trunk": 70.0,
            "trunk_link": 50.0,
        },
        description="Truck speed per highway class (km/h).",
    )
    speed_kph_by_country: dict[CountryCode, dict[HighwayClass, float]] = Field(
        default_factory=dict,
        description=(
            "Truck speed (km/h) per country (ISO2 of the edge) and highway class, overriding "
            "`speed_kph` there, e.g. {DK = {motorway = 80.0, trunk = 70.0}}."
        ),
    )
    coarse_countries: tuple[CountryCode, ...] = Field(
        (),
        description=(
            "Countries without OSM road lines (e.g. SE, NO) joined as coarse straight links of "
            "their ETISplus country graph (highway 'etisplus_link', Speth et al. 2022), "
            "connected to the OSM graph at the borders."
        ),
    )
    coarse_join_km: float = Field(
        30.0,
        gt=0,
        le=100,
        description=(
            "Largest distance (km) between an OSM road node and the ETISplus node of a coarse "
            "country it is joined to (and between the nodes of two coarse countries)."
        ),
    )
    crs: str = Field(GRAPH_CRS, description="Projected CRS (metres) used for all distances.")

    @field_validator("crs")
    @classmethod
    def _projected_in_metres(cls, value: str) -> str:
        require_projected_crs(value, "network.crs")
        return value

    @model_validator(mode="after")
    def _speeds_positive(self) -> NetworkConfig:
        bad = {k: v for k, v in self.speed_kph.items() if v <= 0}
        bad |= {
            f"{cc}.{k}": v
            for cc, by in self.speed_kph_by_country.items()
            for k, v in by.items()
            if v <= 0
        }
        if bad:
            msg = f"speed_kph must be > 0 km/h, got {bad}"
            raise ValueError(msg)
        return self


class PilotFleetConfig(_Frozen):
    """Pilot fleet: named firms' trucks on named corridor routes (pilot-fleet mode)."""

    trucks: int = Field(
        250,
        ge=1,
        description=(
            "Number of pilot trucks (trucks), distributed over the routes of routes_file in "
            "proportion to its 'trucks' column (largest remainder, at least 1 per route)."
        ),
    )
    firms: int = Field(
        10, ge=1, description="Fewest logistics firms (firms) the routes file must name."
    )
    routes_file: str = Field(
        "flows/pilot_routes.csv",
        min_length=1,
        description=(
            "CSV of pilot routes (firm, route_id, origin/destination name, lon, lat, trucks, "
            "trips_per_day, both_directions); a relative path is looked up in the shipped data "
            "folder corridor/data, then in the current directory."
        ),
    )


class FlowsConfig(_Frozen):
    """ETISplus truck OD demand (Speth et al. 2022) placed on the road graph."""

    countries: tuple[CountryCode, ...] = Field(
        ("NL", "DE"), description="Countries whose ETISplus OD tables are loaded."
    )
    base_year: int = Field(2019, description="Year of the ETISplus volumes (year).")
    target_year: int = Field(2027, ge=2019, le=2050, description="Year planned for (year).")
    annual_growth: float | None = Field(
        None,
        ge=-0.5,
        le=0.5,
        description=(
            "Truck traffic growth per year (fraction). None: derived from the ETISplus 2019→2030 "
            "network flows (04_network-edges_truckflows.csv)."
        ),
    )
    days_per_year: float = Field(
        300.0, gt=0, le=366, description="Operating days per year (days) to get trucks per day."
    )
    technology: Technology = Field(
        "bev",
        description=(
            "Zero-emission technology whose share is looked up in "
            "corridor/data/flows/ze_shares.csv when zero_emission_share is None (bev or h2)."
        ),
    )
    zero_emission_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description=(
            "Share of truck trips made by the planned technology in target_year (0–1). None: "
            "interpolated for (technology, target_year) from corridor/data/flows/ze_shares.csv."
        ),
    )
    zero_emission_share_source: str = Field(
        "",
        description=(
            "Where zero_emission_share comes from (study, assumption), shown with it in the "
            "summary; '' labels it as the scenario's own value."
        ),
    )
    min_trucks_per_day: float = Field(
        0.0, ge=0, description="OD pairs below this volume (trucks/day) are dropped, counted."
    )
    stitch_borders: bool = Field(
        True, description="Rebuild cross-border trips from the per-country clipped tables."
    )
    border_match_km: float = Field(
        25.0, gt=0, description="Max distance (km) between border nodes of two countries to pair."
    )
    max_connector_km: float = Field(
        30.0, gt=0, description="ETISplus nodes farther than this (km) from the graph are excluded."
    )
    pilot_fleet: PilotFleetConfig | None = Field(None, description="Pilot fleet mode.")
    clip_to_graph: bool = Field(
        True,
        description=(
            "OD ends off the road graph's region are moved to the first/last ETISplus node of the "
            "trip's ETISplus route inside the region (the trip is routed where the graph exists); "
            "False: such ODs are excluded (counted)."
        ),
    )
    corridor_countries: tuple[CountryCode, ...] = Field(
        (),
        description=(
            "Countries of the planned corridor; with min_corridor_countries, keeps only the flows "
            "whose path runs through that many of them (e.g. NL and DE: cross-border trips)."
        ),
    )
    min_corridor_countries: int = Field(
        0, ge=0, description="Fewest corridor_countries a kept flow's path must cross (countries)."
    )


class SitesConfig(_Frozen):
    """Candidate sites: rest areas, service areas and truck parkings next to the carriageway."""

    sources: tuple[str, ...] = Field(
        ("nl_truck_parking", "rest_stops_sample"),
        description=(
            "Catalogue dataset keys (nl_truck_parking, rest_stops_sample, osm_poi_2021) or file "
            "paths (relative to the current folder) of candidate layers."
        ),
    )
    countries: tuple[CountryCode, ...] = Field(
        ("NL", "DE"), description="Keep candidates in these countries."
    )
    max_snap_m: float = Field(
        3000.0, gt=0, description="Candidates farther than this (m) from a motorway are excluded."
    )
    both_directions_max_m: float = Field(
        300.0,
        ge=0,
        description=(
            "A candidate this close (m) to both carriageways' ends of a junction is taken to serve "
            "both directions; otherwise it serves the carriageway it is on."
        ),
    )
    dedupe_m: float = Field(150.0, ge=0, description="Candidates closer than this (m) are merged.")
    kinds: tuple[str, ...] = Field(
        ("service_area", "rest_area", "truck_parking", "user", "generic_junction", "existing_hpc"),
        description=(
            "Candidate kinds kept after deduplication (fuel stations merged into a service area "
            "still mark it has_fuel); add 'fuel' to plan at stand-alone fuel stations too. "
            "existing_hpc: a charger of the existing_charging register (>= 150 kW) not merged "
            "into a rest area."
        ),
    )
    detour_speed_kph: float = Field(
        40.0,
        gt=0,
        description=(
            "Speed (km/h) on ramps and access roads used to turn a site's detour (m) into minutes."
        ),
    )


#: German Länder by NUTS-1 code (keys of ``GermanyAssumption.spare_mw_by_land``).
GERMAN_LAENDER = {
    "DE1": "Baden-Württemberg",
    "DE2": "Bayern",
    "DE3": "Berlin",
    "DE4": "Brandenburg",
    "DE5": "Bremen",
    "DE6": "Hamburg",
    "DE7": "Hessen",
    "DE8": "Mecklenburg-Vorpommern",
    "DE9": "Niedersachsen",
    "DEA": "Nordrhein-Westfalen",
    "DEB": "Rheinland-Pfalz",
    "DEC": "Saarland",
    "DED": "Sachsen",
    "DEE": "Sachsen-Anhalt",
    "DEF": "Schleswig-Holstein",
    "DEG": "Thüringen",
}


class GermanyAssumption(_Frozen):
    """Assumed spare grid capacity in Germany, where no congestion data is public.

    Applied to the German NUTS-2 areas of the shipped layer (status ``unknown``) before any
    operator table (which wins); every area and site it touches is labelled ASSUMPTION.
    """

    spare_mw: float | None = Field(
        None,
        ge=0,
        description="Spare offtake capacity (MW) assumed for every German NUTS-2 area.",
    )
    spare_mw_by_land: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Spare offtake capacity (MW) assumed per Land, by NUTS-1 code (e.g. {DEA = 20.0} "
            "for Nordrhein-Westfalen, DE9 Niedersachsen); overrides spare_mw there."
        ),
    )
    restricted_hours: str = Field(
        "",
        description="Restricted hours assumed with it, e.g. '6-9,16-21' (non-firm); '' none.",
    )

    @field_validator("spare_mw_by_land")
    @classmethod
    def _known_laender(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(value) - set(GERMAN_LAENDER))
        if bad:
            known = ", ".join(f"{k} {v}" for k, v in GERMAN_LAENDER.items())
            msg = f"unknown Land codes {bad}; use NUTS-1 codes: {known}"
            raise ValueError(msg)
        neg = {k: v for k, v in value.items() if not v >= 0}
        if neg:
            msg = f"spare MW must be >= 0, got {neg}"
            raise ValueError(msg)
        return value


class GridConfig(_Frozen):
    """Electricity grid: substations, congestion areas and connection rules."""

    substation_sources: tuple[str, ...] = Field(
        ("de_substations", "nl_substations_2016", "dk_substations_2016"),
        description="Catalogue dataset keys of substation layers.",
    )
    mv_max_distance_km: float = Field(
        5.0, gt=0, description="A site within this distance (km) of a substation can connect on MV."
    )
    mv_max_power_mw: float = Field(10.0, gt=0, description="Largest MV connection (MW).")
    hv_max_power_mw: float = Field(60.0, gt=0, description="Largest HV connection (MW).")
    default_headroom_mw: float = Field(
        10.0, ge=0, description="Headroom assumed per site where no capacity data is known (MW)."
    )
    congested_headroom_mw: float = Field(
        4.0,
        ge=0,
        description="Non-firm headroom (MW) at a site in a congested area (time-restricted).",
    )
    capacity_table: tuple[Path, ...] = Field(
        (),
        description=(
            "Grid operators' capacity tables (one path or a list; CSV, GeoJSON or GPKG per "
            "supply area or substation, format in corridor/grid/areas.py), applied in order over "
            "the shipped congestion layer; a relative path is relative to the scenario file."
        ),
    )
    capacity_areas: Path | None = Field(
        None,
        description=(
            "Supply-area polygons (GeoJSON/GPKG with an area id per feature) that the area "
            "ids of capacity_table rows are joined to (e.g. the Dutch capacity map's "
            "voedingsgebieden); relative to the scenario file."
        ),
    )

    new_connection_cost_eur: float = Field(
        0.0,
        ge=0,
        description=(
            "Cost (EUR) of a site's grid connection, its site cost in budget_eur; 0: sites cost "
            "nothing besides their chargers."
        ),
    )
    existing_connection_cost_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description=(
            "Share (0–1) of new_connection_cost_eur paid by a site with a known high-power "
            "connection (existing_charging register: existing_power_mw), which also gets at "
            "least that power as firm headroom."
        ),
    )
    germany_assumption: GermanyAssumption | None = Field(
        None,
        description=(
            "Assumed spare capacity for Germany (uniform or per Land), labelled ASSUMPTION in "
            "reports and maps; None: German areas stay 'unknown' (default_headroom_mw per site)."
        ),
    )

    @field_validator("capacity_table", mode="before")
    @classmethod
    def _one_or_more_tables(cls, value: object) -> object:
        return (value,) if isinstance(value, str | Path) else value


class VehicleConfig(_Frozen):
    """The planned vehicle: battery-electric tractor or hydrogen tractor."""

    technology: Technology = Field("bev", description="bev (battery) or h2 (hydrogen).")
    battery_kwh: float = Field(600.0, gt=0, description="Usable-gross battery capacity (kWh).")
    consumption_kwh_per_km: float = Field(
        1.3, gt=0, description="Energy use at 40 t on motorways (kWh/km)."
    )
    tank_kg: float = Field(70.0, gt=0, description="H2 tank capacity (kg).")
    consumption_kg_per_km: float = Field(0.08, gt=0, description="H2 use (kg/km).")
    soc_max: float = Field(0.9, gt=0, le=1, description="State of charge after a stop (0–1).")
    soc_start: float = Field(0.8, ge=0, le=1, description="State of charge at the origin (0–1).")
    soc_reserve: float = Field(0.1, ge=0, lt=1, description="Lowest allowed state of charge (0–1).")

    @model_validator(mode="after")
    def _soc_window(self) -> VehicleConfig:
        if not self.soc_reserve < self.soc_max:
            msg = f"soc_reserve ({self.soc_reserve}) must be below soc_max ({self.soc_max})"
            raise ValueError(msg)
        return self

    @property
    def capacity(self) -> float:
        """Energy store in its own unit (kWh for bev, kg for h2)."""
        return self.battery_kwh if self.technology == "bev" else self.tank_kg

    @property
    def consumption_per_km(self) -> float:
        """Consumption in the store's unit per km."""
        return (
            self.consumption_kwh_per_km
            if self.technology == "bev"
            else (self.consumption_kg_per_km)
        )

    @property
    def range_km(self) -> float:
        """Distance (km) from a stop (``soc_max``) down to the reserve."""
        return (self.soc_max - self.soc_reserve) * self.capacity / self.consumption_per_km

    @property
    def start_range_km(self) -> float:
        """Distance (km) from the origin (``soc_start``) down to the reserve."""
        return (
            max(0.0, self.soc_start - self.soc_reserve) * self.capacity / (self.consumption_per_km)
        )


class VehicleClassConfig(VehicleConfig):
    """One vehicle class of a joint plan (``[[optimise.vehicles]]``): a vehicle and its share.

    Each class is served only by its own kind of station (``bev``: MCS / CCS chargers, ``h2``:
    refuelling modules). With ``break_rule`` a flow of the class is served only if its trip keeps
    the driving-time rules of Regulation (EC) 561/2006 within ``max_trip_time_factor``, see
    :mod:`corridor.optimise.joint`.
    """

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Stable class id (lower case, e.g. bev-40t), used in outputs.",
    )
    share: float = Field(
        gt=0,
        le=1,
        description=(
            "Share (0–1) of the flows' zero-emission trucks/day that are of this class; the "
            "shares of all classes sum to at most 1."
        ),
    )
    source: str = Field("", description="Where the share comes from (reference, for the record).")
    break_rule: bool = Field(
        False,
        description=(
            "Serve a flow only if its trip keeps the EU driving-time rules (45 min break per "
            "4.5 h of driving, Regulation (EC) 561/2006) with charging beyond the breaks within "
            "max_trip_time_factor."
        ),
    )
    max_trip_time_factor: float = Field(
        1.15,
        ge=1,
        description=(
            "With break_rule: most trip time as a multiple of the trip's legal reference time "
            "(driving time plus the breaks the regulation requires anyway)."
        ),
    )
    refuel_kg_per_min: float = Field(
        7.2, gt=0, description="H2: dispensing rate (kg/min) for the refuelling time."
    )


class ChargerOption(_Frozen):
    """A BEV charger type a joint plan may build at a site (one type per site)."""

    power_mw: float = Field(gt=0, description="Power per charger (MW), e.g. 0.4 CCS, 1.0 MCS.")
    cost_eur: float = Field(0.0, ge=0, description="Cost per charger (EUR), in budget_eur.")


_DASHES = re.compile(r"\s*[-\u2010\u2011\u2012\u2013\u2014\u2212]\s*")


def _corridor_key(name: str) -> str:
    """Corridor name compared without case and with any dash (-, ‐, ‑, –, —) as ``-``."""
    return _DASHES.sub("-", " ".join(name.split())).casefold()


@functools.lru_cache(maxsize=256)  # every scenario validation checks the same few names
def _canonical_corridor(name: str, otherwise: str) -> str:
    """Return the corridor files' spelling of ``name``.

    Raises
    ------
    ValueError
        If no corridor matches; the message suggests close names and lists them all.
    """
    from rapidfuzz import fuzz, process

    from corridor.network.corridors import CORRIDOR_FILES, read_corridors

    names = {_corridor_key(n): n for n in read_corridors()}
    key = _corridor_key(name)
    if key in names:
        return names[key]
    close = process.extract(key, list(names), scorer=fuzz.ratio, limit=3, score_cutoff=60)
    hint = f"did you mean {', '.join(repr(names[k]) for k, _, _ in close)}? " if close else ""
    files = ", ".join(f"corridor/data/{p.name}" for p in CORRIDOR_FILES)
    msg = (
        f"unknown corridor {name!r}; {hint}use a corridor name of {files} "
        f"({', '.join(names.values())}) {otherwise}"
    )
    raise ValueError(msg)


class OptimiseConfig(_Frozen):
    """The siting model (flow refuelling location model on real paths)."""

    vehicle: VehicleConfig = Field(default_factory=VehicleConfig)
    objective: Literal["max_trucks", "max_truck_km", "min_sites"] = Field(
        "max_trucks",
        description=(
            "max_trucks / max_truck_km: maximise served trucks/day or truck-km/day with at most "
            "max_sites sites (and budget_eur); min_sites: fewest sites serving target_share of "
            "the servable trucks/day."
        ),
    )
    pilot_first: bool = Field(
        False,
        description=(
            "Serve the pilot fleet first (flows.pilot_fleet): maximise the pilot-fleet trucks "
            "served (each truck once), then, keeping that, the objective; corridor mode also "
            "ranks the corridors by pilot trucks served first. Needs objective max_trucks or "
            "max_truck_km."
        ),
    )
    target_share: float = Field(
        0.8,
        ge=0,
        le=1,
        description="min_sites objective: share (0–1) of servable trucks/day that must be served.",
    )
    budget_eur: float | None = Field(
        None, ge=0, description="Most money (EUR) for site costs plus chargers; None: no budget."
    )
    charger_cost_eur: float = Field(
        0.0, ge=0, description="Cost per charger / H2 module (EUR), counted in budget_eur."
    )
    round_trip: bool = Field(
        False,
        description=(
            "Serve a flow only if the truck can also drive back (reverse path, inbound sites) "
            "without charging at the destination."
        ),
    )
    afir_max_gap_km: float | None = Field(
        None,
        gt=0,
        description=(
            "AFIR: largest distance (km) between open sites along each named corridor direction "
            "of the instance (60 core / 100 comprehensive for trucks, 200 for H2); None: off."
        ),
    )
    min_sites: int = Field(1, ge=0, description="Fewest sites to open (sites).")
    max_sites: int = Field(6, ge=1, description="Most sites to open, p (sites).")
    min_sites_per_country: dict[CountryCode, int] = Field(
        default_factory=dict, description="Fewest sites per country, e.g. {NL = 2, DE = 2}."
    )
    min_sites_per_region: dict[
        Annotated[str, Field(pattern=r"^[A-Z]{2}[A-Z0-9]$")], Annotated[int, Field(ge=0)]
    ] = Field(
        default_factory=dict,
        description=(
            "Fewest sites per NUTS level-1 region (2021 ids, e.g. {DEC = 1} for the Saarland): "
            "a national plan with a site in every Land."
        ),
    )
    min_sites_per_road: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description=(
            "Fewest sites per motorway (the candidate's nearest motorway ref, spaces ignored, "
            "e.g. {'A 5' = 1}): a national plan on every main corridor."
        ),
    )
    min_sites_per_direction: int = Field(
        0,
        ge=0,
        description=(
            "Fewest sites serving each of the two corridor travel directions (see "
            "corridor_axis_deg); a site serving both counts for both."
        ),
    )
    opposite_pair_km: float | None = Field(
        None,
        ge=0,
        le=5,
        description=(
            "Count the two halves of a rest area as one station location (km): candidate sites "
            "on opposite carriageways of the same road (and country), at most this far apart, "
            "count once against max_sites, min_sites and the country, region and road minimums "
            "however many of them open; each half keeps its own chargers and serves its own "
            "direction (corridor/sites/pairs.py). None: every site is a station."
        ),
    )
    corridor_axis_deg: float = Field(
        90.0,
        ge=0,
        lt=360,
        description="Compass bearing (deg) of the corridor's outbound direction (90 = eastbound).",
    )
    charger_power_mw: float = Field(1.0, gt=0, description="Power per MCS charger (MW).")
    min_site_power_mw: float = Field(1.0, ge=0, description="Least power per opened site (MW).")
    max_chargers_per_site: int = Field(12, ge=1, description="Chargers per site at most.")
    h2_module_kg_per_day: float = Field(
        1000.0, gt=0, description="H2 station capacity module (kg/day)."
    )
    peak_hour_share: float = Field(
        0.09, gt=0, le=1, description="Share of daily charging stops in the peak hour (0–1)."
    )
    max_wait_probability: float = Field(
        0.2, gt=0, lt=1, description="Erlang-C: highest probability a truck has to wait (0–1)."
    )
    fixed_open: tuple[str, ...] = Field((), description="Site ids forced into the plan.")
    fixed_closed: tuple[str, ...] = Field((), description="Site ids kept out of the plan.")
    fixed_sites: dict[str, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict,
        description=(
            "Site id → fewest chargers (H2: modules) kept there (chargers); each site is forced "
            "into the plan with at least that many (the earlier stages of a staged roll-out)."
        ),
    )
    solver: Literal["highs", "cbc"] = Field("highs", description="MILP solver.")
    time_limit_s: float = Field(120.0, gt=0, description="Solver time limit (s).")
    mip_gap: float = Field(0.0, ge=0, lt=1, description="Relative MIP gap accepted (fraction).")
    threads: int | None = Field(None, ge=1, description="Solver threads; None: solver default.")
    mip_lp_solver: Literal["choose", "simplex", "ipm"] = Field(
        "choose",
        description=(
            "HiGHS only: the LP solver inside the MILP. 'ipm' (interior point) reaches the LP "
            "bound of large network-wide models whose root LP the dual simplex does not finish "
            "within the time limit (then the reported bound is the trivial one); 'choose': the "
            "HiGHS default."
        ),
    )
    corridor: str | None = Field(
        None,
        description=(
            "Corridor mode: plan the stations along one named corridor of the corridor files "
            "(corridor/data/afir_corridors.toml, corridor/data/corridors.toml): a corridor "
            "name, or 'auto' to rank every corridor that can meet the site minimums and take "
            "the one that serves most trucks/day; None: the whole network (national plans)."
        ),
    )
    corridor_candidates: tuple[str, ...] = Field(
        (),
        description=(
            "Corridor mode 'auto': the corridors to rank (names of the corridor files); empty: "
            "every corridor that routes on the scenario's graph."
        ),
    )
    corridor_buffer_km: float = Field(
        3.0,
        gt=0,
        le=25,
        description="Corridor mode: candidate sites within this distance (km) of its carriageways.",
    )
    capacity_in_model: bool = Field(
        True,
        description=(
            "Tie chargers (H2: modules) and the grid to the served flows inside the MILP: each "
            "served flow's daily energy is assigned to open sites on its path; every site's "
            "peak-hour load must fit its chargers at max_wait_probability (Erlang-C table, the "
            "same rule that sizes the plan afterwards); charger power must fit the site's "
            "headroom and the shared headroom of its substation and congestion area (plus any "
            "battery). Off: the uncapacitated upper bound, chargers sized after solving and "
            "plans that need more than the grid allows are reported invalid."
        ),
    )
    capacity_search: Literal["full", "relaxation_sites"] = Field(
        "full",
        description=(
            "Capacity in the model, when the plan on the capacity-free optimum's sites does not "
            "reach that optimum: 'full' solves the whole capacitated model (proves optimality "
            "or gives its gap); 'relaxation_sites' keeps the capacitated plan on those sites, "
            "with its gap to the capacity-free bound (for national models too large to solve "
            "whole: a deliverable plan and an honest gap instead of no plan)."
        ),
    )
    battery_max_mwh_per_site: float = Field(
        0.0,
        ge=0,
        description=(
            "Largest battery buffer (MWh) a BEV site may add to deliver more charger power than "
            "its grid headroom in the peak; 0: no batteries."
        ),
    )
    battery_hours: float = Field(
        2.0,
        gt=0,
        description=(
            "Hours (h) a battery must sustain its power over the grid headroom: battery MWh = "
            "battery MW × battery_hours."
        ),
    )
    battery_cost_eur_per_mwh: float = Field(
        0.0, ge=0, description="Battery cost (EUR per MWh), counted in budget_eur."
    )
    charging_peak_hours: str = Field(
        "6-22",
        description=(
            "Hours (local, 'a-b' ranges, comma separated) in which truck charging peaks; a "
            "non_firm connection gets only the share of its headroom_mw for the part of these "
            "hours outside its restricted_hours (e.g. restricted 6-9,16-21 in 6-22: 8 of 16 h "
            "free, half the headroom)."
        ),
    )
    afir_min_pool_power_mw: float | None = Field(
        None,
        gt=0,
        description=(
            "AFIR: least total charger power (MW) of every open site on the named corridors "
            "(3.6 MW on the core network by 2030); None: off."
        ),
    )

    vehicles: tuple[VehicleClassConfig, ...] = Field(
        (),
        description=(
            "Joint plan: several vehicle classes (bev and/or h2) planned in one model with a "
            "shared budget, site count and site costs (``[[optimise.vehicles]]``); empty: the "
            "single ``vehicle``."
        ),
    )
    charger_options: tuple[ChargerOption, ...] = Field(
        (),
        description=(
            "Joint plan: BEV charger types to choose from per site (e.g. 0.4 and 1.0 MW with "
            "their cost); empty: charger_power_mw at charger_cost_eur."
        ),
    )
    site_cost_eur: float = Field(
        0.0,
        ge=0,
        description=(
            "Joint plan: fixed cost (EUR) of opening a site (connection, civil works), paid once "
            "per site whatever it offers, on top of the candidate's own cost_eur; in budget_eur."
        ),
    )
    h2_module_cost_eur: float = Field(
        0.0, ge=0, description="Joint plan: cost per H2 module (EUR), in budget_eur."
    )
    h2_station_cost_eur: float = Field(
        0.0,
        ge=0,
        description="Joint plan: fixed cost (EUR) of H2 refuelling at a site, in budget_eur.",
    )
    h2_module_grid_mw: float = Field(
        0.0,
        ge=0,
        description=(
            "Joint plan: grid power (MW) per H2 module (compressor, chiller, dispenser; H2 is "
            "delivered, no electrolysis on site), drawn from the site's headroom next to its "
            "chargers; 0: none."
        ),
    )

    @field_validator("min_sites_per_country", mode="before")
    @classmethod
    def _whole_site_counts(cls, value: object) -> object:
        if isinstance(value, dict):
            bad = {
                k: v
                for k, v in value.items()
                if isinstance(v, bool) or not isinstance(v, int) or v < 0
            }
            if bad:
                listed = ", ".join(f"{k} = {v!r}" for k, v in bad.items())
                msg = (
                    f"{listed}: expected a whole number of sites >= 0 for each country; "
                    "write e.g. { NL = 2, DE = 2 }"
                )
                raise ValueError(msg)
        return value

    @field_validator("corridor")
    @classmethod
    def _known_corridor(cls, value: str | None) -> str | None:
        if value is None or value == "auto":
            return value
        return _canonical_corridor(value, 'or "auto" to rank them all')

    @field_validator("corridor_candidates")
    @classmethod
    def _known_corridor_candidates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_canonical_corridor(v, "or [] for every corridor") for v in value)

    @model_validator(mode="after")
    def _pilot_first_objective(self) -> OptimiseConfig:
        if self.pilot_first and self.objective == "min_sites":
            msg = (
                "pilot_first needs objective max_trucks or max_truck_km (min_sites already "
                "serves a share of every flow); set one of them or pilot_first = false"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _site_bounds(self) -> OptimiseConfig:
        if self.min_sites > self.max_sites:
            msg = (
                f"min_sites = {self.min_sites} must not exceed max_sites = {self.max_sites}; "
                "lower min_sites or raise max_sites"
            )
            raise ValueError(msg)
        if self.vehicles:
            self._check_vehicle_classes()
        elif self.vehicle.technology == "bev" and self.charger_power_mw < 1.0:
            msg = f"charger_power_mw must be >= 1 MW for MCS, got {self.charger_power_mw}"
            raise ValueError(msg)
        return self

    def _check_vehicle_classes(self) -> None:
        names = [v.name for v in self.vehicles]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            msg = f"optimise.vehicles: class names {dup} appear more than once; make them unique"
            raise ValueError(msg)
        total = sum(v.share for v in self.vehicles)
        if total > 1 + 1e-9:
            msg = (
                f"optimise.vehicles: the class shares sum to {total:g}, more than 1; they split "
                "the flows' zero-emission trucks"
            )
            raise ValueError(msg)
        if self.objective == "min_sites":
            msg = "optimise.vehicles: a joint plan maximises (objective max_trucks or max_truck_km)"
            raise ValueError(msg)
        if self.pilot_first:
            msg = "optimise.vehicles: pilot_first is not part of joint plans; set it to false"
            raise ValueError(msg)
        powers = [o.power_mw for o in self.charger_options]
        if len(set(powers)) != len(powers):
            msg = f"optimise.charger_options: power_mw {powers} must differ between options"
            raise ValueError(msg)

    @property
    def technology_label(self) -> str:
        """``bev``, ``h2`` or, for a joint plan, its classes' technologies (``bev+h2``)."""
        if not self.vehicles:
            return self.vehicle.technology
        techs = {v.technology for v in self.vehicles}
        return "+".join(t for t in ("bev", "h2") if t in techs)

    def bev_options(self) -> tuple[ChargerOption, ...]:
        """BEV charger types of a joint plan, slowest first (default: ``charger_power_mw``)."""
        opts = self.charger_options or (
            ChargerOption(power_mw=self.charger_power_mw, cost_eur=self.charger_cost_eur),
        )
        return tuple(sorted(opts, key=lambda o: o.power_mw))


class OutputsConfig(_Frozen):
    """What a run writes."""

    map_html: bool = Field(True, description="Write the interactive folium map.")
    map_max_flow_edges: int = Field(
        4000, ge=0, description="Most loaded flow edges drawn on the map (edges)."
    )
    grid_value_groups: int = Field(
        3,
        ge=0,
        description=(
            "BEV: most binding substations / congestion areas (groups) whose what-if (+1, +5, "
            "+10 MW of headroom: more trucks/day) is re-solved into grid_value.csv and the "
            "summary; each costs up to three solves. 0: off."
        ),
    )


#: Targets a scenario may compare its plan with (``[targets]``): station counts, pilot-fleet
#: trucks and firms served, charging points.
TARGET_KEYS = ("min_stations", "max_stations", "min_trucks", "min_firms", "min_chargers")


class Scenario(_Frozen):
    """A complete planning scenario: the one frozen config of a run."""

    name: str = Field(description="Stable scenario id, e.g. nl-de-bev-pilot.")
    description: str = Field("", description="What the scenario plans, for whom and by when.")
    year: int = Field(2027, ge=2019, le=2050, description="Year the plan is for (year).")
    targets: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Headline targets to compare with, e.g. {min_trucks = 250}: "
            + ", ".join(TARGET_KEYS)
            + "."
        ),
    )
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    flows: FlowsConfig = Field(default_factory=FlowsConfig)
    sites: SitesConfig = Field(default_factory=SitesConfig)
    grid: GridConfig = Field(default_factory=GridConfig)
    optimise: OptimiseConfig = Field(default_factory=OptimiseConfig)
    outputs: OutputsConfig = Field(default_factory=OutputsConfig)

    @field_validator("targets", mode="before")
    @classmethod
    def _known_targets(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(TARGET_KEYS))
        if unknown:
            msg = f"unknown target(s) {unknown}; the targets are {', '.join(TARGET_KEYS)}"
            raise ValueError(msg)
        flags = sorted(k for k, v in value.items() if isinstance(v, bool))
        if flags:
            msg = f"target(s) {flags} must be numbers, not true/false"
            raise ValueError(msg)
        return value

    @field_validator("targets")
    @classmethod
    def _sensible_targets(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, v in value.items() if not (math.isfinite(v) and v >= 0))
        if bad:
            msg = f"target(s) {bad} must be finite numbers >= 0"
            raise ValueError(msg)
        whole = ("min_stations", "max_stations", "min_firms", "min_chargers")
        fractional = sorted(k for k in whole if k in value and value[k] != int(value[k]))
        if fractional:
            msg = f"target(s) {fractional} are counts: give whole numbers"
            raise ValueError(msg)
        low, high = value.get("min_stations"), value.get("max_stations")
        if low is not None and high is not None and high < low:
            msg = f"max_stations = {high:g} is below min_stations = {low:g}"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _one_technology(self) -> Scenario:
        if self.optimise.vehicles:
            return self  # a joint plan: each class carries its technology and share
        flows_tech, vehicle_tech = self.flows.technology, self.optimise.vehicle.technology
        if flows_tech != vehicle_tech:
            msg = (
                f"flows.technology ({flows_tech!r}) must match optimise.vehicle.technology "
                f"({vehicle_tech!r}): the zero-emission share and the vehicle plan one technology"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _site_minimums_fit(self) -> Scenario:
        # contradictions of the scenario itself (solve() checks them again for a bare
        # OptimiseConfig, with the candidates' counts)
        opt = self.optimise
        foreign = [cc for cc in opt.min_sites_per_country if cc not in self.sites.countries]
        if foreign:
            msg = (
                f"optimise.min_sites_per_country names {', '.join(foreign)}, not a country of "
                f"the scenario's sites.countries ({', '.join(self.sites.countries)}); remove it "
                "or add it to sites.countries"
            )
            raise ValueError(msg)
        total = sum(opt.min_sites_per_country.values())
        if total > opt.max_sites:
            msg = (
                f"optimise.min_sites_per_country sums to {total} sites "
                f"({dict(opt.min_sites_per_country)}), more than optimise.max_sites = "
                f"{opt.max_sites}; lower the per-country minimums or raise max_sites"
            )
            raise ValueError(msg)
        if opt.min_sites_per_direction > opt.max_sites:
            msg = (
                f"optimise.min_sites_per_direction = {opt.min_sites_per_direction} is more than "
                f"optimise.max_sites = {opt.max_sites}; lower it or raise max_sites"
            )
            raise ValueError(msg)
        # a site lies in one region and on one road: the minimums of each kind add up
        for key, table in (
            ("min_sites_per_region", opt.min_sites_per_region),
            ("min_sites_per_road", opt.min_sites_per_road),
        ):
            total = sum(table.values())
            if total > opt.max_sites:
                msg = (
                    f"optimise.{key} sums to {total} sites ({dict(table)}), more than "
                    f"optimise.max_sites = {opt.max_sites}; lower the minimums or raise max_sites"
                )
                raise ValueError(msg)
        # a region lies in one country: its sites count for that country's minimum too
        by_country: dict[str, int] = {}
        for region, n in opt.min_sites_per_region.items():
            by_country[region[:2]] = by_country.get(region[:2], 0) + n
        countries = set(by_country) | set(opt.min_sites_per_country)
        need = sum(
            max(opt.min_sites_per_country.get(cc, 0), by_country.get(cc, 0)) for cc in countries
        )
        if need > opt.max_sites:
            msg = (
                f"optimise.min_sites_per_region ({dict(opt.min_sites_per_region)}) with "
                f"min_sites_per_country ({dict(opt.min_sites_per_country)}) needs at least "
                f"{need} sites, more than optimise.max_sites = {opt.max_sites}; lower the "
                "minimums or raise max_sites"
            )
            raise ValueError(msg)
        foreign = [r for r in opt.min_sites_per_region if r[:2] not in self.sites.countries]
        if foreign:
            msg = (
                f"optimise.min_sites_per_region names {', '.join(foreign)}, not a NUTS-1 region "
                f"of the scenario's sites.countries ({', '.join(self.sites.countries)})"
            )
            raise ValueError(msg)
        return self


def builtin_scenarios() -> dict[str, Path]:
    """Return the built-in scenarios by name.

    Returns
    -------
    dict
        Scenario name to its TOML file, sorted by name.
    """
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def _format_validation_error(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        path = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            parent_model = _model_at(tuple(e["loc"][:-1]))
            allowed = ", ".join(sorted(parent_model.model_fields)) if parent_model else "?"
            lines.append(f"unknown key '{path}' (allowed here: {allowed})")
        elif e["type"] == "value_error" and _model_at(tuple(e["loc"])) is not None:
            # a check across the keys of a section: its message names the keys and values, the
            # section's whole input would only bury it
            text = str(e["msg"]).removeprefix("Value error, ")
            lines.append(f"'{path}': {text}" if e["loc"] else text)
        else:
            ctx = e.get("ctx") or {}
            hint = f" (allowed: {ctx['expected']})" if "expected" in ctx else ""
            text = str(e["msg"]).removeprefix("Value error, ")
            lines.append(f"'{path}': {text}{hint}; got {e.get('input')!r}")
    return f"invalid scenario {source}: " + "; ".join(lines)


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] = Scenario
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        sub = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if sub is None:
            return None
        model = sub
    return model


#: File fields of the scenario (section, key) whose relative paths are relative to the file.
_FILE_FIELDS = (("grid", "capacity_table"), ("grid", "capacity_areas"))


def _relative_to(raw: dict, folder: Path) -> None:
    """Make the relative paths of :data:`_FILE_FIELDS` in ``raw`` relative to ``folder``."""
    for section, key in _FILE_FIELDS:
        part = raw.get(section)
        if not isinstance(part, dict) or key not in part:
            continue
        value = part[key]
        many = isinstance(value, list | tuple)
        items = list(value) if many else [value]
        items = [
            str(folder / v) if isinstance(v, str) and not Path(v).is_absolute() else v
            for v in items
        ]
        part[key] = items if many else items[0]
    # the pilot routes file: next to the scenario file when it is there, else (as before) in
    # the shipped data folder or the current folder
    fleet = (
        (raw.get("flows") or {}).get("pilot_fleet") if isinstance(raw.get("flows"), dict) else None
    )
    if isinstance(fleet, dict) and isinstance(fleet.get("routes_file"), str):
        here = Path(fleet["routes_file"])
        if not here.is_absolute() and (folder / here).is_file():
            fleet["routes_file"] = str(folder / here)


def _check_integers(raw: Any, where: str, key: str = "") -> None:
    """Reject integers outside TOML's 64-bit range (Python's reader accepts any size)."""
    if isinstance(raw, dict):
        for k, v in raw.items():
            _check_integers(v, where, f"{key}.{k}" if key else str(k))
    elif isinstance(raw, list):
        for v in raw:
            _check_integers(v, where, key)
    elif isinstance(raw, int) and not isinstance(raw, bool) and not -(2**63) <= raw < 2**63:
        msg = f"{where}: {key} = {raw} is outside TOML's 64-bit integer range"
        raise ScenarioError(msg)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a built-in scenario by name, or a user's TOML file.

    Parameters
    ----------
    name_or_path
        A built-in scenario name (see :func:`builtin_scenarios`) or a path to a ``.toml`` file.

    Returns
    -------
    Scenario
        The validated, frozen scenario.

    Raises
    ------
    ScenarioError
        If the name is unknown, the file is missing or not TOML, a key or value is invalid
        (the message names the key path and the allowed keys or values), or a file the scenario
        names (``grid.capacity_table``, ``grid.capacity_areas``, ``sites.sources``) does not
        exist.
    """
    builtins = builtin_scenarios()
    text = str(name_or_path)
    if text in builtins:
        path = builtins[text]
    else:
        path = Path(text)
        if path.suffix.lower() != ".toml" or not path.is_file():
            known = ", ".join(builtins) or "(none)"
            msg = (
                f"unknown scenario '{text}': not a built-in scenario ({known}) and not an "
                "existing .toml file"
            )
            raise ScenarioError(msg)
    raw = read_toml(path, "scenario file", error=ScenarioError)
    if not raw:
        msg = (
            f"scenario file {path} is empty (no keys); copy a built-in scenario "
            "(corridor/data/scenarios/) and change it"
        )
        raise ScenarioError(msg)
    _check_integers(raw, str(path))
    raw.setdefault("name", path.stem)
    _relative_to(raw, path.parent)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_format_validation_error(exc, str(path))) from None
    problem = _missing_files(scenario, path.parent)
    if problem:
        msg = f"invalid scenario {path}: {problem}"
        raise ScenarioError(msg)
    return scenario


def _missing_files(scenario: Scenario, folder: Path) -> str:
    """Say which file or candidate source the scenario names does not exist ('' if none)."""
    grid = scenario.grid
    files = [("grid.capacity_table", p) for p in grid.capacity_table]
    if grid.capacity_areas is not None:
        files.append(("grid.capacity_areas", grid.capacity_areas))
    for key, file in files:
        if not file.is_file():
            return (
                f"'{key}': file {file} not found; give an existing file (a relative path is "
                f"relative to the scenario file's folder {folder})"
            )
    fleet = scenario.flows.pilot_fleet
    if fleet is not None:
        from corridor._files import shipped_or_local

        if not shipped_or_local(fleet.routes_file).is_file():
            return (
                f"'flows.pilot_fleet.routes_file': file {fleet.routes_file} not found; a "
                f"relative path is looked up next to the scenario file ({folder}), in the "
                f"shipped data ({DATA_DIR}) and in the current folder ({Path.cwd()})"
            )
    from corridor.catalogue import CANDIDATE_LAYERS

    for source in scenario.sites.sources:
        if source not in CANDIDATE_LAYERS and not Path(source).is_file():
            return (
                f"'sites.sources': {source!r} is neither a candidate dataset key "
                f"({', '.join(CANDIDATE_LAYERS)}) nor an existing file (GeoJSON, GPKG or CSV "
                f"with lon/lat; a relative path is read from the current folder {Path.cwd()})"
            )
    return ""
