// The zone map shared by the pages that draw one (Leaflet, vendored and loaded by the page as
// window.L): a map with tiles only when a tile address is configured — zones, branches and pins
// show on a blank map without them — and the delivery zones as GeoJSON polygons in their colours.

import { call, textLabel } from "./shared.js";

/** Where the map opens when nothing is known to fit it to (Kazan, the demo city). */
export const DEFAULT_CENTRE = [55.7887, 49.1221];

/**
 * A Leaflet map in ``node`` (an element or its id); tiles from ``tilesUrl`` when one is set,
 * and the attribution control only then. Other options go to ``L.map``.
 */
export function zoneMap(node, { tilesUrl = "", attribution = null, ...options } = {}) {
  const L = window.L;
  const map = L.map(node, { attributionControl: Boolean(tilesUrl), ...options });
  if (tilesUrl) {
    const tileOptions = { maxZoom: 19 };
    if (attribution !== null) tileOptions.attribution = attribution;
    L.tileLayer(tilesUrl, tileOptions).addTo(map);
  }
  return map;
}

/** The zones' GeoJSON FeatureCollection from ``url``, or null when it cannot be had. */
export async function fetchZones(url) {
  const res = await call("GET", url);
  return res.ok && res.data && Array.isArray(res.data.features) ? res.data : null;
}

/**
 * A Leaflet layer of the zones: each polygon in its own colour (``colour`` when it has none),
 * its name as a tooltip (text, not HTML); ``filter(feature)`` keeps only some.
 */
export function zonesLayer(geojson, { colour = "#0b63ce", weight = 2, fillOpacity = 0.12, filter = null } = {}) {
  return window.L.geoJSON(geojson, {
    style: (f) => {
      const c = f.properties?.color || colour;
      return { color: c, weight, fillColor: c, fillOpacity };
    },
    filter: filter || undefined,
    onEachFeature: (f, layer) => {
      if (f.properties?.name) layer.bindTooltip(textLabel(f.properties.name), { sticky: true });
    },
  });
}
