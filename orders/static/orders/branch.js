// The branch page's map: the pin is the branch; a click or a drag puts its coordinates into the
// form's latitude and longitude, and typed coordinates move the pin. The branch's delivery zones
// (and whatever else the page's sections put on the map) are drawn around it. Leaflet is
// vendored and loaded by the page (window.L); labels reach it as text, never HTML.

import { config, t, textLabel } from "frontoffice/shared.js";
import { DEFAULT_CENTRE, fetchZones, zoneMap, zonesLayer } from "frontoffice/zonemap.js";

const cfg = config();
const lat = document.getElementById("branch-lat");
const lon = document.getElementById("branch-lon");

/** The point typed in the form, or null when it is not a valid WGS84 pair. */
function typedPoint() {
  const a = Number.parseFloat(lat.value.replace(",", "."));
  const b = Number.parseFloat(lon.value.replace(",", "."));
  if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(a) > 90 || Math.abs(b) > 180) return null;
  return [a, b];
}

function start() {
  const L = window.L;
  const typed = typedPoint();
  const map = zoneMap("branch-map", { tilesUrl: cfg.tiles_url, attribution: cfg.tiles_attribution });
  map.setView(typed || DEFAULT_CENTRE, typed ? 13 : 11);
  const pin = L.marker(typed || DEFAULT_CENTRE, { draggable: true, keyboard: true, title: t("pin") });
  pin.bindTooltip(textLabel(cfg.branch_name || t("new_branch")));
  if (typed) pin.addTo(map);

  const place = (point) => {
    pin.setLatLng(point);
    if (!map.hasLayer(pin)) pin.addTo(map);
    lat.value = point.lat.toFixed(6);
    lon.value = point.lng.toFixed(6);
  };
  map.on("click", (ev) => place(ev.latlng));
  pin.on("dragend", () => place(pin.getLatLng()));
  for (const input of [lat, lon]) {
    input.addEventListener("change", () => {
      const point = typedPoint();
      if (!point) return;
      pin.setLatLng(point);
      if (!map.hasLayer(pin)) pin.addTo(map);
      map.panTo(point);
    });
  }
  if (!cfg.tiles_url) document.getElementById("map-hint").append(" ", t("no_tiles"));

  for (const address of cfg.map_urls || []) {
    fetchZones(address).then((geojson) => {
      if (!geojson || cfg.branch_id === null) return;
      zonesLayer(geojson, { filter: (f) => f.properties?.branch_id === cfg.branch_id }).addTo(map);
    });
  }
}

start();
