"""Candidate sites: rest areas, service areas and truck parkings next to the carriageway.

``load_candidate_layers`` reads and deduplicates the layers, ``snap_to_carriageways`` assigns
each site to the directed edges it serves, ``build_candidates`` does both.
"""

from corridor.sites.generic import generic_junction_sites
from corridor.sites.layers import (
    SITE_COLUMNS,
    assign_country,
    dedupe_sites,
    load_candidate_layers,
    read_layer,
    read_user_sites,
)
from corridor.sites.snap import (
    Candidates,
    build_candidates,
    compass_label,
    edges_frame,
    snap_to_carriageways,
)

__all__ = [
    "SITE_COLUMNS",
    "Candidates",
    "assign_country",
    "build_candidates",
    "compass_label",
    "dedupe_sites",
    "edges_frame",
    "generic_junction_sites",
    "load_candidate_layers",
    "read_layer",
    "read_user_sites",
    "snap_to_carriageways",
]
