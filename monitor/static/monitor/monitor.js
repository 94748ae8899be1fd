// The live delivery monitor: one Socket.IO connection to /monitor, redrawn from each snapshot.
// Built to stay open all night: socket.io reconnects by itself, a watchdog reconnects when the
// server has been silent longer than its heartbeat, an expired session reloads the page (to the
// login), and everything is redrawn from the snapshot, so the business day rolls over by itself.

const config = JSON.parse(document.getElementById("mon-config").textContent);
const S = config.strings;
const $ = (sel, root = document) => root.querySelector(sel);

const money = new Intl.NumberFormat(config.locale, {
  style: "currency",
  currency: config.currency,
  currencyDisplay: "narrowSymbol",
  maximumFractionDigits: 0,
});
const moneyExact = new Intl.NumberFormat(config.locale, {
  style: "currency",
  currency: config.currency,
  currencyDisplay: "narrowSymbol",
});
const timeFmt = new Intl.DateTimeFormat(config.locale, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
  timeZone: config.timezone,
});
const clockFmt = new Intl.DateTimeFormat(config.locale, {
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: config.timezone,
});
const dateFmt = new Intl.DateTimeFormat(config.locale, {
  weekday: "long",
  day: "numeric",
  month: "long",
  timeZone: "UTC",
});
const fmt = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

let branch = config.branch ?? null;
let period = "month";
let last = null;
let lastMessageAt = Date.now();

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
  const statuses = $("#mon-statuses");
  statuses.replaceChildren(
    ...Object.entries(s.orders_by_status)
      .filter(([, n]) => n > 0)
      .map(([status, n]) => {
        const span = document.createElement("span");
        span.dataset.status = status;
        span.append(`${config.statuses[status] ?? status} `);
        const b = document.createElement("b");
        b.textContent = n;
        span.append(b);
        return span;
      }),
  );

  setField("revenue", money.format(Number(s.revenue.total)));
  setField("pending", money.format(Number(s.revenue.pending)));
  setField("average_check", money.format(Number(s.revenue.average_check)));
  setField("delivered_orders", s.revenue.delivered_orders);
  const orgs = $("#mon-orgs");
  const byOrg = s.revenue.by_organization;
  orgs.replaceChildren(
    ...(byOrg ?? []).slice(0, 3).map((o) => {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = o.name;
      const amount = document.createElement("b");
      amount.textContent = money.format(Number(o.amount));
      li.append(name, amount);
      return li;
    }),
  );

  const t = s.delivery_time;
  setField("avg_time", t.average_min ?? "–");
  setField("median_time", t.median_min ?? "–");
  setField("p90_time", t.p90_min ?? "–");

  const rate = s.on_time.rate;
  setField("on_time", rate === null ? "–" : `${Math.round(rate * 100)}%`);
  setField("on_time_count", `${s.on_time.on_time} ${S.of} ${s.on_time.judged}`);
  toggle("tile-ontime", ["good", "meh", "poor"], rate === null ? null : rate >= 0.9 ? "good" : rate >= 0.75 ? "meh" : "poor");

  setField("late", s.late.length);
  toggle("tile-late", ["ok", "bad"], s.late.length ? "bad" : "ok");
  const levels = { minor: 0, serious: 0, critical: 0 };
  for (const l of s.late) levels[l.level] += 1;
  $("#mon-late-levels").replaceChildren(
    ...Object.entries(levels).map(([level, n]) => {
      const span = document.createElement("span");
      span.className = level;
      const b = document.createElement("b");
      b.textContent = n;
      span.append(b, ` ${level === "minor" ? "<10" : level === "serious" ? "10–30" : ">30"}′`);
      return span;
    }),
  );

  const c = s.couriers;
  $("#tile-couriers").classList.toggle("na", !c.available);
  setField("on_shift", c.available ? c.on_shift : S.na);
  setField("free", c.available ? c.free : "–");
  setField("busy", c.available ? c.busy : "–");
  setField("no_signal", c.available ? c.no_signal : "–");

  setField("held", s.held);
  toggle("tile-held", ["warn"], s.held > 0 ? "warn" : null);

  const k = s.tickets;
  $("#tile-tickets").classList.toggle("na", !k.available);
  setField("tickets_open", k.available ? k.open : S.na);
  setField("tickets_overdue", k.available ? k.overdue : "–");
  toggle("tile-tickets", ["warn"], k.available && k.overdue > 0 ? "warn" : null);
}

// --- late list --------------------------------------------------------------------------------

function renderLate(s) {
  const list = $("#mon-late");
  $("#late-count").textContent = s.late.length || "";
  if (!s.late.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = S.no_late;
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(
    ...s.late.map((o) => {
      const li = document.createElement("li");
      li.className = o.level;
      li.dataset.orderId = o.order_id;
      const num = document.createElement("span");
      num.className = "num";
      num.textContent = o.number;
      const status = document.createElement("span");
      status.className = "status";
      status.textContent = config.statuses[o.status] ?? o.status;
      const mins = document.createElement("span");
      mins.className = "mins";
      mins.textContent = fmt(S.late_by, { n: o.minutes_late });
      const meta = document.createElement("span");
      meta.className = "meta";
      const who = o.courier_name ?? (o.courier_id ? `#${o.courier_id}` : S.no_courier);
      meta.textContent = [clockFmt.format(new Date(o.promised_at)), who, o.address || o.client_name]
        .filter(Boolean)
        .join(" · ");
      li.append(num, status, mins, meta);
      return li;
    }),
  );
}

// --- chart ------------------------------------------------------------------------------------

let chart = null;
function renderChart(s) {
  const h = s.hourly;
  const labels = [...Array(24).keys()].map((i) => String(i).padStart(2, "0"));
  const currentHour = Number(
    new Intl.DateTimeFormat("en-GB", { hour: "2-digit", hour12: false, timeZone: config.timezone }).format(
      new Date(s.generated_at),
    ),
  );
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
          { label: S.today, data: today, backgroundColor: "#3b82f6", borderRadius: 3, order: 2 },
          {
            label: S.last_week,
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
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 5;
    td.className = "muted-cell";
    td.textContent = S.no_clients;
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(
    ...data.clients.map((c) => {
      const tr = document.createElement("tr");
      const rank = document.createElement("td");
      rank.textContent = c.rank;
      const who = document.createElement("td");
      who.textContent = c.name || c.phone;
      const phone = document.createElement("span");
      phone.className = "phone";
      phone.textContent = c.name ? c.phone : "";
      who.append(phone);
      const n = document.createElement("td");
      n.className = "num";
      n.textContent = c.deliveries;
      const sum = document.createElement("td");
      sum.className = "num";
      sum.textContent = money.format(Number(c.revenue));
      const seg = document.createElement("td");
      if (c.segment) {
        const tag = document.createElement("span");
        tag.className = `seg ${c.segment}`;
        tag.textContent = config.segments[c.segment] ?? c.segment;
        tag.title = `RFM ${c.recency}${c.frequency}${c.monetary}`;
        seg.append(tag);
      }
      tr.append(rank, who, n, sum, seg);
      return tr;
    }),
  );
}

for (const tab of document.querySelectorAll(".loyal-box .tabs button")) {
  tab.addEventListener("click", () => {
    period = tab.dataset.period;
    for (const t of document.querySelectorAll(".loyal-box .tabs button")) {
      t.setAttribute("aria-selected", String(t === tab));
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
  const el = $("#mon-map");
  map = L.map(el, { zoomControl: true, attributionControl: Boolean(config.tiles_url) });
  map.setView([55.78, 49.15], 12);
  if (config.tiles_url) {
    L.tileLayer(config.tiles_url, { maxZoom: 19 }).addTo(map);
  } else {
    el.classList.add("no-tiles");
    const note = document.createElement("div");
    note.className = "map-note";
    note.textContent = S.no_tiles;
    el.parentElement.append(note);
  }
  layers.zones = L.layerGroup().addTo(map);
  layers.orders = L.layerGroup().addTo(map);
  layers.branches = L.layerGroup().addTo(map);
  layers.couriers = L.layerGroup().addTo(map);
  loadZones();
}

async function loadZones() {
  try {
    const resp = await fetch(config.zones_url, { headers: { Accept: "application/json" } });
    if (!resp.ok) return;
    const geojson = await resp.json();
    layers.zones.clearLayers();
    L.geoJSON(geojson, {
      style: (f) => {
        const colour = f.properties?.color || "#a78bfa";
        return { color: colour, weight: 1.5, fillColor: colour, fillOpacity: 0.08 };
      },
      filter: (f) => branch === null || f.properties?.branch_id == null || f.properties.branch_id === branch,
      onEachFeature: (f, layer) => f.properties?.name && layer.bindTooltip(f.properties.name, { sticky: true }),
    }).addTo(layers.zones);
  } catch {
    // no zones: the map still shows couriers, orders and branches
  }
}

function renderMap(s) {
  if (!map) return;
  layers.branches.clearLayers();
  const points = [];
  for (const b of s.branches) {
    if (branch !== null && b.id !== branch) continue;
    const icon = L.divIcon({ className: "branch-pin", html: b.code, iconSize: [32, 18] });
    L.marker([b.lat, b.lon], { icon, keyboard: false }).bindTooltip(b.name).addTo(layers.branches);
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
      .bindTooltip(`${o.number} · ${config.statuses[o.status] ?? o.status}`)
      .addTo(layers.orders);
    points.push([o.lat, o.lon]);
  }
  const seen = new Set();
  for (const c of s.couriers.couriers) {
    if (c.lat === null || c.lon === null) continue;
    seen.add(c.id);
    const style = { radius: 7, color: "#0e131b", weight: 2, fillColor: COURIER_COLOURS[c.state], fillOpacity: 1 };
    const label = `${c.name} · ${S["courier_" + c.state]}${c.active_orders ? ` · ${c.active_orders}` : ""}`;
    let marker = courierMarkers.get(c.id);
    if (!marker) {
      marker = L.circleMarker([c.lat, c.lon], style).bindTooltip(label).addTo(layers.couriers);
      courierMarkers.set(c.id, marker);
    } else {
      marker.setLatLng([c.lat, c.lon]).setStyle(style).setTooltipContent(label);
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
  const known = new Set([...select.options].map((o) => o.value));
  for (const b of s.branches) {
    if (!known.has(String(b.id))) {
      const opt = document.createElement("option");
      opt.value = b.id;
      opt.textContent = `${b.code} — ${b.name}`;
      select.append(opt);
    }
  }
  select.value = branch === null ? "" : String(branch);
}

function render(s) {
  $("#mon-date").textContent = dateFmt.format(new Date(`${s.business_date}T12:00:00Z`));
  renderBranches(s);
  renderTiles(s);
  renderLate(s);
  renderChart(s);
  renderLoyal(s);
  renderMap(s);
  last = s;
  setConn("live", fmt(S.updated, { time: timeFmt.format(new Date(s.generated_at)) }));
}

function setConn(state, text) {
  const el = $("#mon-conn");
  el.className = `mon-conn ${state}`;
  el.textContent = text;
}

initMap();

const socket = io(config.namespace, {
  transports: ["websocket"],
  auth: (cb) => cb(branch === null ? {} : { branch }),
  reconnectionDelayMax: 10000,
});
socket.on("connect", () => setConn("live", S.live));
socket.on("disconnect", () => setConn("offline", S.offline));
socket.on("connect_error", (err) => {
  if (err && (err.message === "unauthorized" || err.message === "forbidden")) {
    setConn("offline", S.session_expired);
    setTimeout(() => window.location.reload(), 5000);
    return;
  }
  setConn("offline", S.offline);
  if (!socket.active) setTimeout(() => socket.connect(), 3000);
});
socket.on("snapshot", (s) => {
  lastMessageAt = Date.now();
  render(s);
});
// An update carries only the sections that changed: merge it into the snapshot held.
socket.on("metrics_updated", (update) => {
  lastMessageAt = Date.now();
  if (last === null && !("branches" in update)) return; // wait for a full one (the next heartbeat)
  render(last === null ? update : { ...last, ...update });
});
socket.on("couriers_moved", (batch) => {
  lastMessageAt = Date.now();
  moveCouriers(batch);
});

// The server sends at least every heartbeat; silence longer than that means a dead link.
setInterval(() => {
  if (socket.connected && Date.now() - lastMessageAt > config.stale_after_s * 1000) {
    setConn("offline", S.stale);
    lastMessageAt = Date.now();
    socket.disconnect().connect();
  }
}, 5000);

$("#mon-branch").addEventListener("change", (e) => {
  branch = e.target.value === "" ? null : Number(e.target.value);
  const url = new URL(window.location.href);
  if (branch === null) url.searchParams.delete("branch");
  else url.searchParams.set("branch", branch);
  history.replaceState(null, "", url);
  fitted = false;
  loadZones();
  socket.disconnect().connect();
});
