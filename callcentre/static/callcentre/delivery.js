// Where and when: delivery or pickup, a saved or a new address (located by the geocoder,
// typed as coordinates, or pinned on the map), and the live quote — zone, fee, minimum,
// delivery time, pre-order slots, problems and the pickup offer.

import { call, clock, config, debounce, el, fill, money, problemText, t, toMinor, url, when } from "frontoffice/shared.js";
import { apiLines } from "./cart.js";
import { clearErrors, showErrors } from "./errors.js";
import { loadMenu } from "./menu.js";
import { emit, on, state } from "./state.js";
import { openMap } from "./mapview.js";

const $ = (id) => document.getElementById(id);
const ADDRESS_PARTS = ["street", "house", "entrance", "floor", "apartment", "intercom"];
const COORDINATES = /^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:\.\d+)?)\s*$/;
let quoteSeq = 0;
let candidates = [];
let candidateIndex = 0;

function branchName(id) {
  const b = config().branches.find((x) => x.id === id);
  return b ? b.name : id ? `#${id}` : "";
}

// --- kind and branch ---------------------------------------------------------------------------

/** True when the operator picks the branch: pickups, and deliveries when no zone is configured. */
export function branchChosenByOperator() {
  return state.kind === "pickup" || state.zonesConfigured === false;
}

/** Switch between delivery and pickup. */
export function setKind(kind, branchId = null) {
  state.kind = kind;
  for (const r of document.querySelectorAll('input[name="kind"]')) r.checked = r.value === kind;
  $("pickup-box").hidden = !branchChosenByOperator();
  $("branch-label").textContent = kind === "pickup" ? t("pickup_branch") : t("branch_delivering");
  $("address-box").hidden = kind === "pickup";
  if (kind === "pickup") {
    if (branchId) state.pickupBranchId = branchId;
    if (!state.pickupBranchId && config().branches.length === 1) state.pickupBranchId = config().branches[0].id;
    $("pickup-branch").value = state.pickupBranchId ?? "";
  }
  clearErrors("quote");
  requestQuote();
}

// --- addresses ----------------------------------------------------------------------------------

function addresses() {
  const list = [...(state.lookup?.addresses || [])];
  list.sort((a, b) => String(b.last_used_at || "").localeCompare(String(a.last_used_at || "")));
  return list;
}

function renderAddresses() {
  const list = addresses();
  const box = $("addresses");
  const option = (value, label, extra = null) =>
    el(
      "li",
      {},
      el(
        "label",
        { class: "check" },
        el("input", {
          type: "radio",
          name: "address",
          value,
          checked: value === "new" ? state.address.mode === "new" : state.address.mode === "known" && String(state.address.id) === value,
        }),
        el("span", {}, label, extra),
      ),
    );
  fill(box,
    ...list.map((a) =>
      option(
        String(a.id),
        a.text,
        [a.apartment ? el("span", { class: "muted small" }, ` · ${a.apartment}`) : null, a.zone_name ? el("span", { class: "muted small" }, ` · ${a.zone_name}`) : null],
      ),
    ),
    state.lookup ? option("new", t("new_address")) : null,
  );
  box.hidden = !state.lookup || !list.length;
  $("new-address").hidden = state.lookup ? state.address.mode !== "new" : false;
}

/** Choose a saved address by id, or "new". */
export function chooseAddress(id) {
  if (id === "new" || id === null) state.address = { mode: "new", id: null };
  else state.address = { mode: "known", id: Number(id) };
  renderAddresses();
  clearErrors("submit");
  requestQuote();
}

function onClient() {
  const list = addresses();
  state.address = list.length ? { mode: "known", id: list[0].id } : { mode: "new", id: null };
  renderAddresses();
  requestQuote();
}

function onRepeat({ order, answer }) {
  const list = addresses();
  const text = answer?.address_text ?? order?.address_text;
  const lat = answer?.lat;
  const lon = answer?.lon;
  const match =
    list.find((a) => lat != null && a.lat === lat && a.lon === lon) ||
    list.find((a) => text && (a.text === text || text.startsWith(a.text)));
  if (match) state.address = { mode: "known", id: match.id };
  if (order?.kind === "pickup") setKind("pickup", order.branch_id);
  renderAddresses();
  requestQuote();
}

function located(lat, lon, source) {
  state.newAddress.lat = lat;
  state.newAddress.lon = lon;
  state.newAddress.source = source;
  const key = source === "pin" ? "pinned" : "located";
  $("addr-located").textContent = t(key, { lat: lat.toFixed(5), lon: lon.toFixed(5) });
  $("addr-located").className = "small ok";
  clearErrors("submit"); // a refusal of the previous place (another branch's zone…) no longer holds
  requestQuote();
}

function notLocated() {
  state.newAddress.lat = null;
  state.newAddress.lon = null;
  state.newAddress.source = null;
  $("addr-located").textContent = state.newAddress.text ? t("not_located") : "";
  $("addr-located").className = "small muted";
}

function applyCandidate(c) {
  const text = c.text || c.display_name || c.address || $("addr-text").value;
  $("addr-text").value = text;
  state.newAddress.text = text;
  for (const part of ADDRESS_PARTS) {
    if (c[part]) $(`addr-${part}`).value = c[part];
  }
  $("geocode-candidates").hidden = true;
  candidates = [];
  located(Number(c.lat), Number(c.lon), "geocode");
}

function renderCandidates() {
  const box = $("geocode-candidates");
  box.hidden = !candidates.length;
  fill(box,
    ...candidates.map((c, i) =>
      el(
        "li",
        {
          class: i === candidateIndex ? "hl" : "",
          onmousedown: (ev) => ev.preventDefault(),
          onclick: () => applyCandidate(c),
        },
        c.text || c.display_name || c.address,
      ),
    ),
  );
}

let suggestSeq = 0;

/** Offer the offline address directory's houses for what the operator is typing. */
const suggestAddress = debounce(async () => {
  const q = $("addr-text").value.trim();
  if (q.length < 2 || COORDINATES.test(q)) return;
  const seq = ++suggestSeq;
  const res = await call("GET", url("address_suggest", {}, { q }));
  if (seq !== suggestSeq || !res.ok || $("addr-text").value.trim() !== q) return;
  candidates = res.data.candidates || [];
  candidateIndex = 0;
  renderCandidates();
}, 150);

/** Locate the typed address: coordinates typed as "55.79, 49.12" directly, else the geocoder. */
async function geocode() {
  const q = $("addr-text").value.trim();
  if (!q) return;
  const coords = COORDINATES.exec(q);
  if (coords) {
    located(Number(coords[1]), Number(coords[2]), "pin");
    return;
  }
  const note = $("addr-located");
  note.textContent = t("geocoding");
  note.className = "small muted";
  const res = await call("GET", url("geocode", {}, { q }));
  if (!res.ok) {
    note.textContent = res.status === 422 ? problemText(res) : t("geocode_unavailable");
    note.className = "small warn";
    return;
  }
  const list = Array.isArray(res.data) ? res.data : res.data?.candidates || res.data?.results || [];
  candidates = list.filter((c) => Number.isFinite(Number(c.lat)) && Number.isFinite(Number(c.lon)));
  candidateIndex = 0;
  if (!candidates.length) {
    note.textContent = t("geocode_none");
    note.className = "small warn";
  } else if (candidates.length === 1) {
    applyCandidate(candidates[0]);
  } else {
    note.textContent = "";
    renderCandidates();
  }
}

function onAddressKey(ev) {
  if (ev.altKey || ev.ctrlKey) return;
  if (!$("geocode-candidates").hidden && candidates.length) {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      candidateIndex = (candidateIndex + (ev.key === "ArrowDown" ? 1 : -1) + candidates.length) % candidates.length;
      renderCandidates();
      ev.preventDefault();
      return;
    }
    if (ev.key === "Enter") {
      applyCandidate(candidates[candidateIndex]);
      ev.preventDefault();
      return;
    }
    if (ev.key === "Escape") {
      $("geocode-candidates").hidden = true;
      candidates = [];
      ev.preventDefault();
      ev.stopPropagation();
      return;
    }
  }
  if (ev.key === "Enter") {
    ev.preventDefault();
    geocode();
  }
}

/** Open the map to pin the client's place. */
export async function pinOnMap() {
  if (state.kind !== "delivery") setKind("delivery");
  if (state.address.mode !== "new") chooseAddress("new");
  const start =
    state.newAddress.lat != null ? [state.newAddress.lat, state.newAddress.lon] : null;
  const point = await openMap(start);
  if (point) {
    const text = $("addr-text");
    if (!text.value.trim()) {
      // Couriers need words, not only a point: say where it is until the operator types the address.
      text.value = t("map_point", { lat: point.lat.toFixed(5), lon: point.lon.toFixed(5) });
      state.newAddress.text = text.value;
    }
    located(point.lat, point.lon, "pin");
  }
  $("addr-text").focus();
}

/** The address part of a request body, or null when none is chosen. */
export function apiAddress({ full = false } = {}) {
  if (state.kind !== "delivery") return null;
  if (state.address.mode === "known") return { id: state.address.id };
  if (state.address.mode !== "new" && state.lookup) return null;
  const text = $("addr-text").value.trim();
  const out = { text };
  if (state.newAddress.lat != null) {
    out.lat = state.newAddress.lat;
    out.lon = state.newAddress.lon;
  }
  if (full) {
    for (const part of ADDRESS_PARTS) out[part] = $(`addr-${part}`).value.trim();
    out.comment = $("addr-comment").value.trim();
    out.save = true;
  }
  return out;
}

// --- quote ---------------------------------------------------------------------------------------

function quoteReady() {
  if (state.kind === "pickup") return Boolean(state.pickupBranchId);
  const a = apiAddress();
  if (state.zonesConfigured === false) return Boolean(state.pickupBranchId && a && (a.id || a.text));
  return Boolean(a && (a.id || (a.lat != null && a.lon != null)));
}

/** Ask (debounced) for the zone, fee, minimum, delivery time and problems of the order as it stands. */
export const requestQuote = debounce(async () => {
  const seq = ++quoteSeq;
  const box = $("quote");
  if (!quoteReady()) {
    state.quote = null;
    clearErrors("quote");
    fill(box, el("p", { class: "muted small" }, t("quote_wait")));
    emit("quote");
    return;
  }
  box.classList.add("busy");
  const body = { phone: state.phone || $("phone").value.trim() || null, kind: state.kind, lines: apiLines() };
  if (state.client?.id) body.client_id = state.client.id;
  if (branchChosenByOperator() && state.pickupBranchId) body.branch_id = state.pickupBranchId;
  if (state.kind === "delivery") body.address = apiAddress();
  if (state.promisedAt) body.promised_at = state.promisedAt;
  const res = await call("POST", url("quote"), body);
  if (seq !== quoteSeq) return;
  box.classList.remove("busy");
  if (!res.ok) {
    state.quote = null;
    const errors = res.data?.errors?.length ? res.data.errors : [{ field: "zone", message: problemText(res) }];
    showErrors(errors, "quote");
    fill(box);
    emit("quote", { errors });
    return;
  }
  state.quote = res.data;
  renderQuote();
  emit("quote", { errors: res.data.problems || [] });
}, 250);

function renderQuote() {
  const q = state.quote;
  const box = $("quote");
  clearErrors("quote");
  if (!q) {
    fill(box);
    return;
  }
  const rows = [];
  const zone = q.zone && typeof q.zone === "object" ? q.zone.name : q.zone;
  if (state.kind === "delivery" && zone) {
    rows.push(el("div", {}, el("span", { class: "muted" }, t("zone")), " ", el("strong", {}, zone), q.branch_id ? el("span", { class: "muted" }, ` · ${branchName(q.branch_id)}`) : null));
  } else if (q.branch_id) {
    rows.push(el("div", {}, el("span", { class: "muted" }, t("branch")), " ", el("strong", {}, branchName(q.branch_id))));
  }
  if (state.kind === "delivery" && q.delivery_fee != null && (zone || q.zones_configured === false)) {
    const fee = toMinor(q.delivery_fee);
    rows.push(
      el(
        "div",
        {},
        el("span", { class: "muted" }, t("delivery_fee")),
        " ",
        el("strong", {}, fee ? money(fee, { minor: true }) : t("free")),
        q.free_delivery_from ? el("span", { class: "muted small" }, ` · ${t("free_from", { amount: money(q.free_delivery_from) })}`) : null,
      ),
    );
  }
  if (state.kind === "delivery" && q.min_order && toMinor(q.min_order) > 0) {
    rows.push(el("div", { class: q.meets_minimum === false && state.cart.length ? "warn" : "muted small" }, t("min_order", { amount: money(q.min_order) })));
  }
  if (q.eta_minutes != null && q.asap_at && !state.promisedAt) {
    const key = state.kind === "pickup" ? "pickup_eta" : "eta";
    rows.push(el("div", { class: "cc-eta" }, t(key, { n: q.eta_minutes, time: clock(q.asap_at) })));
  }
  if (q.pickup_offer) {
    const offer = q.pickup_offer;
    const id = offer.branch_id ?? offer.id;
    rows.push(
      el(
        "div",
        { class: "cc-offer" },
        t("pickup_offer", { branch: offer.name || branchName(id), address: offer.address || "", km: offer.distance_km ?? "?" }),
        " ",
        el("button", { type: "button", onclick: () => setKind("pickup", id) }, t("switch_to_pickup")),
      ),
    );
  }
  fill(box, ...rows);
  showErrors((q.problems || []).filter((p) => p.code !== "empty_cart"), "quote");
  renderSlots();
  if (q.branch_id && q.branch_id !== state.menuBranchId) loadMenu(q.branch_id);
}

function renderSlots() {
  const select = $("promised-at");
  const slots = (state.quote?.slots || []).map((s) => (typeof s === "string" ? { at: s } : s));
  const asap = state.quote?.asap_at ? `${t("asap")} (${clock(state.quote.asap_at)})` : t("asap");
  const keep = state.promisedAt;
  fill(select,
    el("option", { value: "" }, asap),
    ...slots.map((s) => el("option", { value: s.at || s.start || s.value }, s.label || when(s.at || s.start || s.value))),
  );
  select.value = keep && slots.some((s) => (s.at || s.start || s.value) === keep) ? keep : "";
  if (select.value !== keep) state.promisedAt = "";
}

/** Forget the place for the next call. */
export function resetDelivery() {
  quoteSeq += 1;
  state.quote = null;
  state.promisedAt = "";
  state.address = { mode: "none", id: null };
  state.newAddress = { text: "", lat: null, lon: null, source: null };
  state.pickupBranchId = null;
  for (const id of ["addr-text", "addr-comment", ...ADDRESS_PARTS.map((p) => `addr-${p}`)]) $(id).value = "";
  candidates = [];
  $("geocode-candidates").hidden = true;
  notLocated();
  setKind("delivery");
  renderAddresses();
  renderSlots();
  fill($("quote"), el("p", { class: "muted small" }, t("quote_wait")));
}

/** Wire the delivery column. */
export function initDelivery() {
  const select = $("pickup-branch");
  fill(select,
    el("option", { value: "" }, "—"),
    ...config().branches.map((b) => el("option", { value: b.id }, `${b.name} — ${b.address}`)),
  );
  select.addEventListener("change", () => {
    state.pickupBranchId = select.value ? Number(select.value) : null;
    requestQuote();
  });
  for (const r of document.querySelectorAll('input[name="kind"]')) r.addEventListener("change", () => setKind(r.value));
  $("addresses").addEventListener("change", (ev) => {
    if (ev.target.name === "address") chooseAddress(ev.target.value);
  });
  const text = $("addr-text");
  text.addEventListener("input", () => {
    state.newAddress.text = text.value;
    notLocated();
    $("geocode-candidates").hidden = true;
    requestQuote();
    suggestAddress();
  });
  text.addEventListener("keydown", onAddressKey);
  $("pin-button").addEventListener("click", pinOnMap);
  $("promised-at").addEventListener("change", (ev) => {
    state.promisedAt = ev.target.value;
    requestQuote();
  });
  call("GET", url("zones")).then((res) => {
    if (res.ok && Array.isArray(res.data?.features)) {
      state.zonesConfigured = res.data.features.length > 0;
      setKind(state.kind);
    }
  });
  on("client", onClient);
  on("repeat", onRepeat);
  on("cart", () => requestQuote());
  resetDelivery();
}

/** Put the keyboard on the address choice. */
export function focusAddress() {
  if (state.kind === "pickup") {
    $("pickup-branch").focus();
    return;
  }
  const checked = document.querySelector('#addresses input[name="address"]:checked');
  if (checked && state.address.mode === "known") checked.focus();
  else $("addr-text").focus();
}
