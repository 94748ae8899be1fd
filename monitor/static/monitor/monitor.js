// The live delivery monitor: one Socket.IO connection to /monitor, redrawn from each snapshot.
// Built to stay open all night: socket.io reconnects by itself, a watchdog reconnects when the
// server has been silent longer than its heartbeat, an expired session reloads the page (to the
// login), and everything is redrawn from the snapshot, so the business day rolls over by itself.

import { clock, config, el, fill, hourOf, label, liveSocket, longDate, t, textLabel, wholeMoney } from "frontoffice/shared.js";
import { fetchZones, zoneMap, zonesLayer } from "frontoffice/zonemap.js";

const $ = (sel, root = document) => root.querySelector(sel);
const statusLabel = (status) => label("order_status", status);

let branch = config().branch ?? null;
let period = "month";
let last = null;

// --- tiles ------------------------------------------------------------------------------------

function setField(name, text) {
  for (const el of document.querySelectorAll(`[data-field="${name}"]`)) {
    if (el.textContent !== String(text)) {
      el.textContent = text;
      const tile = el.closest(".tile");
      if (tile && el.classList.contains("value") && last !== null) {
        tile.classList.remove("changed");
        void tile.offsetWidth; // restart the animation
        tile.classList.add("changed");
      }
    }
  }
}

function toggle(id, classes, active) {
  const el = document.getElementById(id);
  for (const c of classes) el.classList.toggle(c, c === active);
}

function renderTiles(s) {
  setField("orders_today", s.orders_today);
  fill(
    $("#mon-statuses"),
    Object.entries(s.orders_by_status)
      .filter(([, n]) => n > 0)
      .map(([status, n]) => el("span", { dataset: { status } }, `${statusLabel(status)} `, el("b", {}, n))),
  );

  setField("revenue", wholeMoney(s.revenue.total));
  setField("pending", wholeMoney(s.revenue.pending));
  setField("average_check", wholeMoney(s.revenue.average_check));
  setField("delivered_orders", s.revenue.delivered_orders);
  fill(
    $("#mon-orgs"),
    (s.revenue.by_organization ?? [])
      .slice(0, 3)
      .map((o) => el("li", {}, el("span", {}, o.name), el("b", {}, wholeMoney(o.amount)))),
  );

  const time = s.delivery_time;
  setField("avg_time", time.average_min ?? "–");
  setField("median_time", time.median_min ?? "–");
  setField("p90_time", time.p90_min ?? "–");

  const rate = s.on_time.rate;
  setField("on_time", rate === null ? "–" : `${Math.round(rate * 100)}%`);
  setField("on_time_count", `${s.on_time.on_time} ${t("of")} ${s.on_time.judged}`);
  toggle("tile-ontime", ["good", "meh", "poor"], rate === null ? null : rate >= 0.9 ? "good" : rate >= 0.75 ? "meh" : "poor");

  setField("late", s.late.length);
  toggle("tile-late", ["ok", "bad"], s.late.length ? "bad" : "ok");
  const levels = { minor: 0, serious: 0, critical: 0 };
  for (const l of s.late) levels[l.level] += 1;
  fill(
    $("#mon-late-levels"),
    Object.entries(levels).map(([level, n]) =>
      el("span", { class: level }, el("b", {}, n), ` ${level === "minor" ? "<10" : level === "serious" ? "10–30" : ">30"}′`),
    ),
  );

  const c = s.couriers;
  $("#tile-couriers").classList.toggle("na", !c.available);
  setField("on_shift", c.available ? c.on_shift : t("na"));
  setField("free", c.available ? c.free : "–");
  setField("busy", c.available ? c.busy : "–");
  setField("no_signal", c.available ? c.no_signal : "–");

  setField("held", s.held);
  toggle("tile-held", ["warn"], s.held > 0 ? "warn" : null);

  const k = s.tickets;
  $("#tile-tickets").classList.toggle("na", !k.available);
  setField("tickets_open", k.available ? k.open : t("na"));
  setField("tickets_overdue", k.available ? k.overdue : "–");
  toggle("tile-tickets", ["warn"], k.available && k.overdue > 0 ? "warn" : null);

  const f = s.fiscal;
  $("#tile-fiscal").classList.toggle("na", !f.available);
  setField("fiscal_waiting", f.available ? f.waiting : t("na"));
  setField("fiscal_failed", f.available ? f.failed : "–");
  toggle("tile-fiscal", ["warn"], f.available && f.failed > 0 ? "warn" : null);
}

// --- late list --------------------------------------------------------------------------------

function renderLate(s) {
  const list = $("#mon-late");
  $("#late-count").textContent = s.late.length || "";
  if (!s.late.length) {
    fill(list, el("li", { class: "empty" }, t("no_late")));
    return;
  }
  fill(
    list,
    s.late.map((o) => {
      const who = o.courier_name ?? (o.courier_id ? `#${o.courier_id}` : t("no_courier"));
      return el(
        "li",
        { class: o.level, dataset: { orderId: o.order_id } },
        el("span", { class: "num" }, o.number),
        el("span", { class: "status" }, statusLabel(o.status)),
        el("span", { class: "mins" }, t("late_by", { n: o.minutes_late })),
        el("span", { class: "meta" }, [clock(o.promised_at), who, o.address || o.client_name].filter(Boolean).join(" · ")),
      );
    }),
  );
}

// --- chart ------------------------------------------------------------------------------------

let chart = null;
function renderChart(s) {
  const h = s.hourly;
  const labels = [...Array(24).keys()].map((i) => String(i).padStart(2, "0"));
  const currentHour = hourOf(s.generated_at);
  const today = h.today.map((n, i) => (i <= currentHour ? n : null));
  $("#mon-hourly-note").textContent = `${h.today_so_far} / ${h.last_week_same_time}`;
  if (!window.Chart) return;
  if (chart === null) {
    Chart.defaults.color = "#9aa7b8";
    Chart.defaults.borderColor = "#222c3a";
    chart = new Chart($("#mon-chart"), {
      type: "bar",
      data: {
        labels,
        datasets: [
          { label: t("today"), data: today, backgroundColor: "#3b82f6", borderRadius: 3, order: 2 },
          {
            label: t("last_week"),
            data: h.last_week,
            type: "line",
            borderColor: "#f59e0b",
            backgroundColor: "#f59e0b",
            pointRadius: 0,
            borderWidth: 2,
            tension: 0.3,
            order: 1,
          },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { position: "top", align: "end", labels: { boxWidth: 10, font: { size: 11 } } } },
        scales: {
          x: { grid: { display: false }, ticks: { font: { size: 10 }, maxRotation: 0, autoSkip: true } },
          y: { beginAtZero: true, ticks: { precision: 0, font: { size: 10 } } },
        },
      },
    });
  } else {
    chart.data.datasets[0].data = today;
    chart.data.datasets[1].data = h.last_week;
    chart.update("none");
  }
}

// --- loyal clients ----------------------------------------------------------------------------

function renderLoyal(s) {
  const data = s.loyal[period];
  const body = $("#mon-loyal tbody");
  if (!data || !data.clients.length) {
    fill(body, el("tr", {}, el("td", { colspan: 5, class: "muted-cell" }, t("no_clients"))));
    return;
  }
  fill(
    body,
    data.clients.map((c) =>
      el(
        "tr",
        {},
        el("td", {}, c.rank),
        el("td", {}, c.name || c.phone, el("span", { class: "phone" }, c.name ? c.phone : "")),
        el("td", { class: "num" }, c.deliveries),
        el("td", { class: "num" }, wholeMoney(c.revenue)),
        el(
          "td",
          {},
          c.segment
            ? el(
                "span",
                { class: `seg ${c.segment}`, title: `RFM ${c.recency}${c.frequency}${c.monetary}` },
                label("loyalty_segment", c.segment),
              )
            : null,
        ),
      ),
    ),
  );
}

for (const tab of document.querySelectorAll(".loyal-box .tabs button")) {
  tab.addEventListener("click", () => {
    period = tab.dataset.period;
    for (const other of document.querySelectorAll(".loyal-box .tabs button")) {
      other.setAttribute("aria-selected", String(other === tab));
    }
    if (last) renderLoyal(last);
  });
}

// --- map --------------------------------------------------------------------------------------

const COURIER_COLOURS = { free: "#22c55e", busy: "#3b82f6", no_signal: "#64748b" };
const LATE_COLOURS = { minor: "#f59e0b", serious: "#f97316", critical: "#ef4444" };
let map = null;
const layers = {};
const courierMarkers = new Map();
let fitted = false;

function initMap() {
  if (!window.L) return;
  const node = $("#mon-map");
  map = zoneMap(node, { zoomControl: true, tilesUrl: config().tiles_url });
  map.setView([55.78, 49.15], 12);
  if (!config().tiles_url) {
    node.classList.add("no-tiles");
    node.parentElement.append(el("div", { class: "map-note" }, t("no_tiles")));
  }
  layers.zones = L.layerGroup().addTo(map);
  layers.orders = L.layerGroup().addTo(map);
  layers.branches = L.layerGroup().addTo(map);
  layers.couriers = L.layerGroup().addTo(map);
  loadZones();
}

// No zones: the map still shows couriers, orders and branches.
async function loadZones() {
  const zones = await fetchZones(config().zones_url);
  if (!zones) return;
  layers.zones.clearLayers();
  zonesLayer(zones, {
    colour: "#a78bfa",
    weight: 1.5,
    fillOpacity: 0.08,
    filter: (f) => branch === null || f.properties?.branch_id == null || f.properties.branch_id === branch,
  }).addTo(layers.zones);
}

function renderMap(s) {
  if (!map) return;
  layers.branches.clearLayers();
  const points = [];
  for (const b of s.branches) {
    if (branch !== null && b.id !== branch) continue;
    const icon = L.divIcon({ className: "branch-pin", html: textLabel(b.code), iconSize: [32, 18] });
    L.marker([b.lat, b.lon], { icon, keyboard: false }).bindTooltip(textLabel(b.name)).addTo(layers.branches);
    points.push([b.lat, b.lon]);
  }
  layers.orders.clearLayers();
  for (const o of s.map_orders) {
    const colour = o.late_level ? LATE_COLOURS[o.late_level] : "#e2e8f0";
    L.circleMarker([o.lat, o.lon], {
      radius: o.late_level ? 6 : 4,
      color: "#0e131b",
      weight: 1,
      fillColor: colour,
      fillOpacity: 0.95,
    })
      .bindTooltip(textLabel(`${o.number} · ${statusLabel(o.status)}`))
      .addTo(layers.orders);
    points.push([o.lat, o.lon]);
  }
  const seen = new Set();
  for (const c of s.couriers.couriers) {
    if (c.lat === null || c.lon === null) continue;
    seen.add(c.id);
    const style = { radius: 7, color: "#0e131b", weight: 2, fillColor: COURIER_COLOURS[c.state], fillOpacity: 1 };
    const tooltip = textLabel(`${c.name} · ${label("courier_state", c.state)}${c.active_orders ? ` · ${c.active_orders}` : ""}`);
    let marker = courierMarkers.get(c.id);
    if (!marker) {
      marker = L.circleMarker([c.lat, c.lon], style).bindTooltip(tooltip).addTo(layers.couriers);
      courierMarkers.set(c.id, marker);
    } else {
      marker.setLatLng([c.lat, c.lon]).setStyle(style).setTooltipContent(tooltip);
    }
    points.push([c.lat, c.lon]);
  }
  for (const [id, marker] of courierMarkers) {
    if (!seen.has(id)) {
      layers.couriers.removeLayer(marker);
      courierMarkers.delete(id);
    }
  }
  if (!fitted && points.length) {
    map.fitBounds(L.latLngBounds(points).pad(0.25), { maxZoom: 14 });
    fitted = true;
  }
}

function moveCouriers(batch) {
  for (const c of batch.couriers) {
    const marker = courierMarkers.get(c.id);
    if (marker) marker.setLatLng([c.lat, c.lon]);
  }
}

// --- branches, connection ---------------------------------------------------------------------

function renderBranches(s) {
  const select = $("#mon-branch");
  const allowed = config().branches; // null: every branch; else the user's, and no "all branches"
  if (allowed) select.querySelector('option[value=""]')?.remove();
  const known = new Set([...select.options].map((o) => o.value));
  for (const b of s.branches) {
    if (allowed && !allowed.includes(b.id)) continue;
    if (!known.has(String(b.id))) {
      select.append(el("option", { value: b.id }, `${b.code} — ${b.name}`));
    }
  }
  select.value = branch === null ? "" : String(branch);
}

function render(s) {
  $("#mon-date").textContent = longDate(s.business_date);
  renderBranches(s);
  renderTiles(s);
  renderLate(s);
  renderChart(s);
  renderLoyal(s);
  renderMap(s);
  last = s;
  setConn("live", t("updated", { time: clock(s.generated_at, { seconds: true }) }));
}

function setConn(state, text) {
  const node = $("#mon-conn");
  node.className = `mon-conn ${state}`;
  node.textContent = text;
}

initMap();

const socket = liveSocket(
  config().namespace,
  (up, why) => {
    if (up) setConn("live", t("live"));
    else if (why === "expired") {
      setConn("offline", t("session_expired"));
      setTimeout(() => window.location.reload(), 5000);
    } else if (why === "stale") setConn("offline", t("stale"));
    else setConn("offline", t("offline"));
  },
  {
    transports: ["websocket"],
    auth: (cb) => cb(branch === null ? {} : { branch }),
    reconnectionDelayMax: 10000,
    retryAfterMs: 3000,
    staleAfterS: config().stale_after_s,
  },
);
socket?.on("snapshot", (s) => render(s));
// An update carries only the sections that changed, and of the map only the orders that changed
// (map_orders_changed) and the ids of those gone (map_orders_gone): merge it into the snapshot held.
function merged(held, update) {
  const { map_orders_changed: changed, map_orders_gone: gone, ...sections } = update;
  const next = { ...held, ...sections };
  if (changed || gone) {
    const pins = new Map(held.map_orders.map((o) => [o.order_id, o]));
    for (const id of gone ?? []) pins.delete(id);
    for (const o of changed ?? []) pins.set(o.order_id, o);
    next.map_orders = [...pins.values()];
  }
  return next;
}
socket?.on("metrics_updated", (update) => {
  if (last === null && !("branches" in update)) return; // wait for a full one (a heartbeat sends all within 10 min)
  render(last === null ? update : merged(last, update));
});
socket?.on("couriers_moved", (batch) => moveCouriers(batch));

$("#mon-branch").addEventListener("change", (e) => {
  branch = e.target.value === "" ? null : Number(e.target.value);
  const url = new URL(window.location.href);
  if (branch === null) url.searchParams.delete("branch");
  else url.searchParams.set("branch", branch);
  history.replaceState(null, "", url);
  fitted = false;
  loadZones();
  socket?.disconnect().connect();
});
