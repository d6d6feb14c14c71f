"""The one parser of hour windows such as ``"6-9,16-21"`` (also ``"6-9;16-21"``).

Used everywhere corridor reads hours of the day: restricted hours of non-firm grid connections
(capacity tables, the congestion layer, the sites' grid columns), the optimiser's
``charging_peak_hours`` and the connection-load report.

A window is ``start-end`` in whole hours 0–24, ``end`` excluded; ``22-6`` wraps midnight.
Windows are separated by ``,`` or ``;`` (how Dutch and German spreadsheets write lists); spaces
are ignored; an empty text is no hour.
"""

from __future__ import annotations

import re

import numpy as np

from corridor.errors import InputDataError

__all__ = ["format_hours", "hour_set", "parse_hours"]

_PART = re.compile(r"^(\d{1,2})-(\d{1,2})$")


def parse_hours(text: object, what: str = "hours") -> np.ndarray:
    """24 booleans, True in the hours of ``text`` (see the module docstring).

    Parameters
    ----------
    text
        ``"6-9,16-21"``, ``"6-9;16-21"``, ``""``; None and NaN are no hours.
    what
        What the text is, for the message (e.g. ``"optimise.charging_peak_hours"``).

    Raises
    ------
    InputDataError
        (a ``ValueError``) if a window is not ``start-end`` with whole hours 0–24 and
        ``start != end``.
    """
    mask = np.zeros(24, bool)
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return mask
    raw = str(text)
    for part in re.split(r"[,;]", raw.replace(" ", "")):
        if not part:
            continue
        m = _PART.match(part)
        a, b = (int(m.group(1)), int(m.group(2))) if m else (-1, -1)
        if not (0 <= a <= 24 and 0 <= b <= 24) or a == b:
            msg = (
                f"{what}: {raw!r} is not like '6-9,16-21' or '6-9;16-21': expected ranges "
                "start-end of whole hours 0-24 with start != end (end excluded, '22-6' wraps "
                "midnight)"
            )
            raise InputDataError(msg)
        hours = np.arange(a, b) if a < b else np.r_[np.arange(a, 24), np.arange(0, b)]
        mask[hours % 24] = True
    return mask


def hour_set(text: object, what: str = "hours") -> frozenset[int]:
    """Return the hours of ``text`` as a set (:func:`parse_hours`)."""
    return frozenset(int(h) for h in np.flatnonzero(parse_hours(text, what)))


def format_hours(mask: np.ndarray) -> str:
    """Inverse of :func:`parse_hours`: ``"6-9,16-21"`` (``""`` when no hour is set)."""
    mask = np.asarray(mask, bool)
    parts, h = [], 0
    while h < 24:
        if mask[h]:
            start = h
            while h < 24 and mask[h]:
                h += 1
            parts.append(f"{start}-{h}")
        else:
            h += 1
    return ",".join(parts)
