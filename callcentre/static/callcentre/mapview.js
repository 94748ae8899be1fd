// The map dialog: delivery zones and branches on the shared zone map (tiles only when a tile
// address is configured — the zones and the pin show on a blank map without them);
// a click puts the pin, Enter uses it.

import { config, t, textLabel, url } from "frontoffice/shared.js";
import { DEFAULT_CENTRE, fetchZones, zoneMap, zonesLayer } from "frontoffice/zonemap.js";

let map = null;
let pin = null;
let resolver = null;
let point = null;

const $ = (id) => document.getElementById(id);

async function build() {
  const L = window.L;
  const tiles = config().tiles_url;
  map = zoneMap("map", { keyboard: true, tilesUrl: tiles, attribution: config().tiles_attribution || "" });
  $("map-note").textContent = tiles ? t("map_hint") : `${t("map_hint")} ${t("map_no_tiles")}`;
  const bounds = L.latLngBounds([]);
  for (const b of config().branches) {
    L.circleMarker([b.lat, b.lon], { radius: 7, color: "#1d2330", weight: 2, fillColor: "#fff", fillOpacity: 1 })
      .bindTooltip(textLabel(b.name), { permanent: true, direction: "right", className: "cc-map-label" })
      .addTo(map);
    bounds.extend([b.lat, b.lon]);
  }
  const zones = await fetchZones(url("zones"));
  if (zones) {
    const layer = zonesLayer(zones).addTo(map);
    if (layer.getBounds().isValid()) bounds.extend(layer.getBounds());
  }
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
  else map.setView(DEFAULT_CENTRE, 11);
  map.on("click", (ev) => setPoint(ev.latlng.lat, ev.latlng.lng));
}

function setPoint(lat, lon) {
  const L = window.L;
  point = { lat, lon };
  if (!pin) {
    pin = L.circleMarker([lat, lon], { radius: 9, color: "#b91c1c", weight: 3, fillColor: "#ef4444", fillOpacity: 0.9 }).addTo(map);
  } else {
    pin.setLatLng([lat, lon]);
  }
  $("map-coords").textContent = `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
  $("map-use").disabled = false;
}

function finish(result) {
  const r = resolver;
  resolver = null;
  const dialog = $("map-dialog");
  if (dialog.open) dialog.close();
  if (r) r(result);
}

/** Show the map; resolves to {lat, lon} when the operator uses a point, or null. */
export async function openMap(start = null) {
  const dialog = $("map-dialog");
  if (!window.L) return null;
  dialog.showModal();
  if (!map) await build();
  map.invalidateSize();
  point = null;
  $("map-use").disabled = true;
  $("map-coords").textContent = "";
  if (start) {
    setPoint(start[0], start[1]);
    map.setView(start, Math.max(map.getZoom(), 14));
  } else if (pin) {
    pin.remove();
    pin = null;
  }
  $("map").focus();
  return new Promise((resolve) => {
    resolver = resolve;
  });
}

/** Wire the dialog buttons. */
export function initMap() {
  const dialog = $("map-dialog");
  $("map-use").addEventListener("click", () => finish(point));
  $("map-cancel").addEventListener("click", () => finish(null));
  dialog.addEventListener("close", () => finish(null));
  dialog.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && point) {
      ev.preventDefault();
      finish(point);
    }
  });
}
