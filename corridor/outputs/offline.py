"""Make folium maps self-contained: Leaflet inlined, no CDN needed.

folium links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs; offline (or years later) such a
map shows nothing. corridor's maps only need Leaflet itself, which ships inside the package
(``static/leaflet``, Leaflet 1.9.4, BSD-2-Clause), and is inlined into the HTML here. Tiles stay
online-only: without network the vector layers still draw.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import folium
from branca.element import Element

__all__ = ["LEAFLET_VERSION", "inline_leaflet"]

LEAFLET_VERSION = "1.9.4"


@cache
def _asset(name: str) -> str:
    return (resources.files("corridor.outputs") / "static" / "leaflet" / name).read_text("utf-8")


def inline_leaflet(fmap: folium.Map) -> folium.Map:
    """Drop folium's CDN links and inline the packaged Leaflet JS and CSS.

    Parameters
    ----------
    fmap
        A map built with plain Leaflet layers (GeoJson, CircleMarker, Popup, LayerControl, …),
        no plugin that needs jQuery, Bootstrap or Font Awesome.

    Returns
    -------
    folium.Map
        The same map object, whose saved HTML loads nothing from the network but tiles.
    """
    fmap.default_js = []
    fmap.default_css = []
    header = fmap.get_root().header
    header.add_child(Element(f"<style>{_asset('leaflet.css')}</style>"), name="leaflet_css_inline")
    header.add_child(Element(f"<script>{_asset('leaflet.js')}</script>"), name="leaflet_js_inline")
    return fmap
