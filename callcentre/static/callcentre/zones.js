// The zones editor: every zone on the map (Leaflet, vendored, with the vendored Leaflet-Geoman
// drawing tools: window.L and L.PM), the selected zone's outline editable and its terms in the
// form beside it; saving goes to /api/v1/zones (POST a new zone, PATCH a changed one) and each
// refused field gets its message next to it. Overlapping zones are outlined in dashes and listed
// with the zone that delivers where they overlap. Texts come from the page config; names reach
// Leaflet as text nodes (textLabel), never as HTML.

import { call, config, el, fill, randomKey, t, textLabel } from "frontoffice/shared.js";
import { DEFAULT_CENTRE, zoneMap } from "frontoffice/zonemap.js";
import { clearErrors, showErrors } from "./errors.js";

const cfg = config();
const api = cfg.zone_api;
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const SLOTS = [0, 1]; // intervals a day has on the form (a break makes two)
const form = document.getElementById("zone-form");
const status = document.getElementById("zone-status");
const branchNames = new Map(cfg.branches.map((b) => [b.id, b.code]));

const state = {
  zones: [], // ZoneOut of the API
  overlaps: [], // OverlapOut of the API
  layers: new Map(), // zone id → its Leaflet polygon
  selected: null, // the zone id being edited, or null for a new zone
  drawn: null, // the Leaflet layer of a new zone's outline
};
let map = null;

function say(text, problem = false) {
  status.textContent = text;
  status.classList.toggle("problem", problem);
}

// --- the form ------------------------------------------------------------------------------------

function field(name) {
  return form.elements.namedItem(name);
}

function setForm(zone) {
  field("name").value = zone?.name ?? "";
  field("branch_id").value = String(zone?.branch_id ?? cfg.branch_id ?? "");
  field("delivery_fee").value = zone?.delivery_fee ?? "0.00";
  field("free_delivery_from").value = zone?.free_delivery_from ?? "";
  field("min_order").value = zone?.min_order ?? "0.00";
  field("delivery_minutes").value = String(zone?.delivery_minutes ?? 60);
  field("priority").value = String(zone?.priority ?? 0);
  field("color").value = zone?.color ?? "";
  field("active").checked = zone ? zone.active : true;
  const hours = zone?.hours ?? {};
  field("branch_hours").checked = Object.keys(hours).length === 0;
  for (const day of WEEKDAYS) {
    for (const slot of SLOTS) {
      const interval = (hours[day] || [])[slot];
      // A time field has no 24:00: closing at the end of the day is 00:00 of the next.
      field(`${day}_${slot}_opens`).value = interval?.opens ?? "";
      field(`${day}_${slot}_closes`).value = interval ? (interval.closes === "24:00" ? "00:00" : interval.closes) : "";
      field(`${day}_${slot}_next`).checked = interval ? interval.next_day || interval.closes === "24:00" : false;
    }
  }
  document.getElementById("zone-form-title").textContent = zone ? t("editing", { name: zone.name }) : t("new_zone");
  document.getElementById("zone-delete").hidden = !zone;
  clearErrors("zone");
}

/** A number field as typed: a number when it reads as one, else the text (the API names the field). */
function numberOf(name) {
  const text = field(name).value.trim();
  return text !== "" && /^-?\d+$/.test(text) ? Number(text) : text;
}

function sum(name) {
  return field(name).value.trim().replace(",", ".");
}

function hoursOf() {
  if (field("branch_hours").checked) return {};
  const out = {};
  for (const day of WEEKDAYS) {
    const intervals = [];
    for (const slot of SLOTS) {
      const opens = field(`${day}_${slot}_opens`).value;
      const closes = field(`${day}_${slot}_closes`).value;
      if (opens || closes) intervals.push({ opens, closes, next_day: field(`${day}_${slot}_next`).checked });
    }
    if (intervals.length) out[day] = intervals;
  }
  return out;
}

/** The outline of the zone being edited, as GeoJSON geometry, or null when none is drawn. */
function outline() {
  const layer = state.selected !== null ? state.layers.get(state.selected) : state.drawn;
  return layer ? layer.toGeoJSON().geometry : null;
}

function body() {
  const free = sum("free_delivery_from");
  return {
    name: field("name").value.trim(),
    branch_id: field("branch_id").value ? Number(field("branch_id").value) : null,
    geometry: outline(),
    delivery_fee: sum("delivery_fee") || "0",
    free_delivery_from: free === "" ? null : free,
    min_order: sum("min_order") || "0",
    delivery_minutes: numberOf("delivery_minutes"),
    priority: numberOf("priority"),
    color: field("color").value.trim(),
    active: field("active").checked,
    opening_hours: hoursOf(),
  };
}

async function save(ev) {
  ev.preventDefault();
  const data = body();
  if (!data.geometry) {
    showErrors([{ field: "geometry", code: "geometry_missing", message: t("draw_first") }], "zone");
    say(t("fix_fields"), true);
    return;
  }
  if (data.branch_id === null) delete data.branch_id;
  const creating = state.selected === null;
  const address = creating ? api.list : api.one.replace("{id}", state.selected);
  const res = await call(creating ? "POST" : "PATCH", address, data, { idempotencyKey: randomKey() });
  if (!res.ok) {
    showErrors(res.data?.errors || [{ field: "*", message: res.data?.detail || t("fix_fields") }], "zone");
    say(t("fix_fields"), true);
    return;
  }
  clearErrors("zone");
  if (state.drawn) {
    state.drawn.remove();
    state.drawn = null;
  }
  state.selected = res.data.id;
  say(t("saved", { name: res.data.name }));
  await reload();
}

async function remove() {
  const zone = state.zones.find((z) => z.id === state.selected);
  if (!zone || !window.confirm(t("confirm_delete", { name: zone.name }))) return;
  const res = await call("DELETE", api.one.replace("{id}", zone.id), undefined, { idempotencyKey: randomKey() });
  if (!res.ok) {
    say(res.data?.detail || t("fix_fields"), true);
    return;
  }
  state.selected = null;
  setForm(null);
  say(t("deleted", { name: zone.name }));
  await reload();
}

// --- the map -------------------------------------------------------------------------------------

function overlapping(id) {
  return state.overlaps.filter((o) => o.zones.some((z) => z.id === id));
}

function style(zone) {
  const colour = zone.color || "#0b63ce";
  const clash = overlapping(zone.id).length > 0;
  const chosen = zone.id === state.selected;
  return {
    color: clash ? "#c62828" : colour,
    weight: chosen ? 4 : 2,
    dashArray: clash ? "6 4" : null,
    fillColor: colour,
    fillOpacity: zone.active ? 0.15 : 0.04,
  };
}

/** What a zone's overlaps mean, in words: which zones it beats and which beat it. */
function overlapText(zone) {
  const mine = overlapping(zone.id);
  if (!mine.length) return "";
  const beats = mine.filter((o) => o.winner.id === zone.id).map((o) => o.zones.find((z) => z.id !== zone.id).name);
  const loses = mine.filter((o) => o.winner.id !== zone.id).map((o) => o.winner.name);
  const parts = [];
  if (beats.length) parts.push(t("wins_over", { names: beats.join(", ") }));
  if (loses.length) parts.push(t("loses_to", { names: loses.join(", ") }));
  return parts.join("; ");
}

function select(id) {
  const previous = state.selected !== null ? state.layers.get(state.selected) : null;
  if (previous) previous.pm.disable();
  if (state.drawn) {
    state.drawn.remove();
    state.drawn = null;
  }
  state.selected = id;
  const zone = state.zones.find((z) => z.id === id) || null;
  setForm(zone);
  const layer = state.layers.get(id);
  if (layer) {
    layer.pm.enable({ allowSelfIntersection: true });
    map.fitBounds(layer.getBounds(), { maxZoom: 15 });
  }
  paint();
}

function paint() {
  for (const zone of state.zones) state.layers.get(zone.id)?.setStyle(style(zone));
  for (const row of document.querySelectorAll("#zone-list tbody tr")) {
    row.classList.toggle("selected", Number(row.dataset.id) === state.selected);
  }
}

function drawZones() {
  for (const layer of state.layers.values()) layer.remove();
  state.layers.clear();
  for (const zone of state.zones) {
    const layer = window.L.geoJSON(zone.geometry, { style: () => style(zone), pmIgnore: false }).getLayers()[0];
    if (!layer) continue;
    const tip = overlapText(zone);
    layer.bindTooltip(textLabel(zone.name, tip ? ` — ${tip}` : ""), { sticky: true });
    layer.on("click", () => {
      if (!map.pm.globalDrawModeEnabled()) select(zone.id); // a click while drawing is a corner
    });
    layer.addTo(map);
    state.layers.set(zone.id, layer);
  }
  const selected = state.layers.get(state.selected);
  if (selected) selected.pm.enable({ allowSelfIntersection: true });
}

function listZones() {
  const rows = state.zones.map((zone) => {
    const note = overlapText(zone);
    return el(
      "tr",
      { dataset: { id: zone.id }, tabindex: "0", onclick: () => select(zone.id), onkeydown: (e) => e.key === "Enter" && select(zone.id) },
      el("td", {}, zone.name, zone.active ? "" : ` (${t("off")})`),
      el("td", {}, branchNames.get(zone.branch_id) ?? String(zone.branch_id)),
      el("td", {}, zone.delivery_fee, zone.free_delivery_from ? ` · ${t("free_from", { sum: zone.free_delivery_from })}` : ""),
      el("td", {}, zone.min_order),
      el("td", {}, String(zone.delivery_minutes)),
      el("td", {}, String(zone.priority)),
      el("td", { class: note ? "zn-overlap" : "" }, note),
    );
  });
  fill(document.querySelector("#zone-list tbody"), rows.length ? rows : [el("tr", {}, el("td", { colspan: "7" }, t("no_zones")))]);
  const items = state.overlaps.map((o) =>
    el(
      "li",
      { class: "zn-overlap" },
      t("overlap", { first: o.zones[0].name, second: o.zones[1].name, area: o.area_km2, winner: o.winner.name }),
      ` (${t(`reason_${o.reason}`)})`,
    ),
  );
  fill(document.getElementById("zone-overlaps"), items.length ? items : [el("li", {}, t("no_overlaps"))]);
}

async function reload() {
  const [zones, overlaps] = await Promise.all([call("GET", api.list), call("GET", api.overlaps)]);
  if (!zones.ok) {
    say(zones.data?.detail || "", true);
    return;
  }
  state.zones = zones.data;
  state.overlaps = overlaps.ok ? overlaps.data.items : [];
  if (state.selected !== null && !state.zones.some((z) => z.id === state.selected)) state.selected = null;
  drawZones();
  listZones();
  paint();
  if (state.selected !== null) setForm(state.zones.find((z) => z.id === state.selected));
}

function startDrawing() {
  if (state.selected !== null) state.layers.get(state.selected)?.pm.disable();
  state.selected = null;
  if (state.drawn) {
    state.drawn.remove();
    state.drawn = null;
  }
  setForm(null);
  paint();
  map.pm.enableDraw("Polygon", { allowSelfIntersection: true });
}

// --- import ---------------------------------------------------------------------------------------

async function importFile() {
  const problem = document.getElementById("zone-import-problem");
  const file = document.getElementById("zone-import-file").files[0];
  problem.textContent = "";
  if (!file) return;
  let doc;
  try {
    doc = JSON.parse(await file.text());
  } catch (err) {
    problem.textContent = String(err.message || err);
    return;
  }
  const res = await call("POST", api.geojson, doc, { idempotencyKey: randomKey() });
  if (!res.ok) {
    const errors = res.data?.errors || [];
    problem.textContent = errors.length ? errors.map((e) => `${e.field}: ${e.message}`).join(" ") : res.data?.detail || "";
    return;
  }
  say(t("imported", { created: res.data.created, updated: res.data.updated }));
  await reload();
}

// --- start ---------------------------------------------------------------------------------------

async function start() {
  map = zoneMap("zones-map", { tilesUrl: cfg.tiles_url, attribution: cfg.tiles_attribution });
  map.setView(DEFAULT_CENTRE, 11);
  if (!cfg.tiles_url) document.getElementById("map-hint").textContent = t("no_tiles");
  if (cfg.locale && map.pm.setLang) map.pm.setLang(cfg.locale === "ru" ? "ru" : "en");
  map.pm.addControls({
    position: "topleft",
    drawMarker: false,
    drawCircleMarker: false,
    drawPolyline: false,
    drawRectangle: true,
    drawPolygon: true,
    drawCircle: false,
    drawText: false,
    editMode: false,
    dragMode: false,
    cutPolygon: false,
    removalMode: false,
    rotateMode: false,
  });
  map.on("pm:create", (ev) => {
    if (state.drawn) state.drawn.remove();
    state.selected = null;
    state.drawn = ev.layer;
    ev.layer.pm.enable({ allowSelfIntersection: true });
    clearErrors("zone");
    say(t("drawn"));
    field("name").focus();
  });
  map.on("pm:drawstart", () => {
    if (state.selected !== null) {
      state.layers.get(state.selected)?.pm.disable();
      state.selected = null;
      setForm(null);
      paint();
    }
  });
  form.addEventListener("submit", save);
  document.getElementById("zone-draw").addEventListener("click", startDrawing);
  document.getElementById("zone-delete").addEventListener("click", remove);
  document.getElementById("zone-import").addEventListener("click", importFile);
  setForm(null);
  await reload();
  const bounds = [...state.layers.values()].map((l) => l.getBounds());
  const mine = cfg.branch_id ? state.zones.filter((z) => z.branch_id === cfg.branch_id).map((z) => state.layers.get(z.id)?.getBounds()) : [];
  const fit = (mine.filter(Boolean).length ? mine.filter(Boolean) : bounds).reduce((a, b) => (a ? a.extend(b) : window.L.latLngBounds(b.getSouthWest(), b.getNorthEast())), null);
  if (fit) map.fitBounds(fit, { maxZoom: 14 });
  document.body.dataset.zonesReady = "1";
}

start();
