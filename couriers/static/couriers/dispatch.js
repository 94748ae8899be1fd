// The dispatch screen: undelivered orders of the manager's branches (polled from
// /api/v1/dispatch/board), the free couriers ranked for the selected order, assign/unassign in one
// key or click, the auto-dispatch switch, and the proofs of delivery of trips that ended.
// Keys: ↑ ↓ select, Enter assigns the first courier, 1–9 assigns that one, U unassigns.

import { call, clock, config, day, el, fill, label, money, problemText, randomKey, t, url } from "frontoffice/shared.js";

const cfg = config();
const rows = document.querySelector("#dp-orders tbody");
const finishedRows = document.querySelector("#dp-finished tbody");
const list = document.getElementById("dp-candidates");
const selectedCourier = document.getElementById("dp-selected-courier");
const message = document.getElementById("dp-message");
const autoForm = document.getElementById("dp-auto");
const autoOn = document.getElementById("dp-auto-on");
const autoMinutes = document.getElementById("dp-auto-minutes");
const autoProblem = document.getElementById("dp-auto-problem");

const state = { orders: [], finished: [], selected: null, candidates: [], busy: false, autoTouched: false };

function say(text, ok = false) {
  message.hidden = !text;
  message.className = ok ? "dp-message ok" : "dp-message";
  message.textContent = text || "";
}

function selectedOrder() {
  return state.orders.find((o) => o.id === state.selected) || null;
}

function lateCell(o) {
  if (o.minutes_late !== null) return el("span", { class: `late ${o.late_level}` }, t("late_by", { n: o.minutes_late }));
  if (!o.promised_at) return el("span", { class: "muted" }, t("no_promise"));
  return el("span", { class: "ontime" }, t("on_time"));
}

function orderLink(o) {
  return el("a", { href: url("order_page", { id: o.id }) }, o.number);
}

function renderOrders() {
  if (!state.orders.length) {
    fill(rows, el("tr", {}, el("td", { colspan: 6, class: "muted" }, t("no_orders"))));
    return;
  }
  fill(
    rows,
    state.orders.map((o) =>
      el(
        "tr",
        {
          class: o.id === state.selected ? "selected" : null,
          dataset: { order: o.id },
          "aria-selected": o.id === state.selected ? "true" : "false",
          onclick: () => select(o.id),
        },
        el("td", {}, orderLink(o), " ", el("span", { class: "muted small" }, day(o.business_date))),
        el("td", { class: "status" }, label("order_status", o.status)),
        el("td", {}, clock(o.promised_at)),
        el("td", {}, lateCell(o)),
        el("td", {}, o.client_name, el("br"), el("span", { class: "muted small" }, o.address)),
        el("td", { class: "courier" }, o.courier_name || el("span", { class: "muted" }, t("no_courier"))),
      ),
    ),
  );
  const row = rows.querySelector("tr.selected");
  if (row) row.scrollIntoView({ block: "nearest" });
}

function renderFinished() {
  if (!state.finished.length) {
    fill(finishedRows, el("tr", {}, el("td", { colspan: 4, class: "muted" }, t("no_finished"))));
    return;
  }
  fill(
    finishedRows,
    state.finished.map((o) =>
      el(
        "tr",
        { dataset: { order: o.id }, onclick: () => showProof(o) },
        el("td", {}, orderLink(o)),
        el("td", {}, label("order_status", o.status)),
        el("td", {}, o.courier_name || ""),
        el("td", {}, el("button", { type: "button", class: "proof-open" }, t("proofs", { n: o.proofs }))),
      ),
    ),
  );
}

function renderRule(rule) {
  document.getElementById("dp-auto-state").textContent = rule.enabled ? t("auto_on") : t("auto_off");
  document.getElementById("dp-auto-rule").textContent = t("auto_rule", { n: rule.after_minutes });
  if (!state.autoTouched) {
    autoOn.checked = rule.enabled;
    autoMinutes.value = String(rule.after_minutes);
  }
}

function renderCandidates() {
  const order = selectedOrder();
  if (!order) {
    fill(list, el("li", { class: "muted" }, t("pick_order")));
    fill(selectedCourier);
    return;
  }
  fill(
    selectedCourier,
    order.courier_id
      ? [
          `${t("courier")}: ${order.courier_name} `,
          el("button", { type: "button", id: "dp-unassign", onclick: () => unassign() }, t("unassign"), " (U)"),
        ]
      : null,
  );
  if (order.courier_id) {
    fill(list);
    return;
  }
  if (!state.candidates.length) {
    fill(list, el("li", { class: "muted" }, t("no_candidates")));
    return;
  }
  fill(
    list,
    state.candidates.map((c, i) =>
      el(
        "li",
        { dataset: { courier: c.courier_id } },
        el("span", { class: "key" }, i < 9 ? String(i + 1) : ""),
        el(
          "span",
          { class: "who" },
          el("b", {}, c.name),
          " · ",
          label("vehicle", c.vehicle),
          el("br"),
          el(
            "span",
            { class: "muted small" },
            t("km", { n: (c.distance_m / 1000).toFixed(1) }),
            " · ",
            t("eta", { n: Math.ceil(c.eta_s / 60) }),
            c.eta_to_client_s !== null ? ` · ${t("eta_client", { n: Math.ceil(c.eta_to_client_s / 60) })}` : "",
          ),
        ),
        el("button", { type: "button", class: "assign", onclick: () => assign(i) }, t("assign")),
      ),
    ),
  );
}

async function loadCandidates() {
  const order = selectedOrder();
  state.candidates = [];
  if (order && !order.courier_id) {
    const res = await call("GET", url("candidates", { id: order.id }));
    if (state.selected !== order.id) return;
    state.candidates = res.ok ? res.data.items : [];
  }
  renderCandidates();
}

function select(id) {
  if (state.selected === id) return;
  state.selected = id;
  renderOrders();
  loadCandidates();
}

function move(step) {
  if (!state.orders.length) return;
  const at = state.orders.findIndex((o) => o.id === state.selected);
  const next = at < 0 ? 0 : Math.min(state.orders.length - 1, Math.max(0, at + step));
  select(state.orders[next].id);
}

async function refresh() {
  const res = await call("GET", url("board"));
  if (!res.ok) {
    say(problemText(res));
    return;
  }
  state.orders = res.data.orders;
  state.finished = res.data.finished;
  if (state.selected !== null && !selectedOrder()) state.selected = null;
  renderOrders();
  renderFinished();
  renderRule(res.data.auto_dispatch);
  document.getElementById("dp-updated").textContent = t("updated", { time: clock(new Date().toISOString(), { seconds: true }) });
  await loadCandidates();
}

async function act(fn) {
  if (state.busy) return;
  state.busy = true;
  try {
    await fn();
  } finally {
    state.busy = false;
  }
}

function assign(index) {
  const order = selectedOrder();
  const candidate = state.candidates[index];
  if (!order || !candidate || order.courier_id) return;
  return act(async () => {
    const res = await call("POST", url("assign", { id: order.id }), { courier_id: candidate.courier_id }, { idempotencyKey: randomKey() });
    if (res.ok) say(t("assigned", { number: order.number, courier: candidate.name }), true);
    else say(problemText(res));
    await refresh();
  });
}

function unassign() {
  const order = selectedOrder();
  if (!order || !order.courier_id) return;
  return act(async () => {
    const res = await call("POST", url("unassign", { id: order.id }), {}, { idempotencyKey: randomKey() });
    if (res.ok) say(t("unassigned", { number: order.number }), true);
    else say(problemText(res));
    await refresh();
  });
}

async function showProof(order) {
  const box = document.getElementById("dp-proof");
  box.hidden = false;
  document.getElementById("dp-proof-title").textContent = t("proof_of", { number: order.number });
  const facts = document.getElementById("dp-proof-facts");
  const images = document.getElementById("dp-proof-images");
  const res = await call("GET", url("proof", { id: order.id }));
  if (!res.ok) {
    fill(facts, el("dd", {}, res.status === 404 ? t("no_proof") : problemText(res)));
    fill(images);
    return;
  }
  const p = res.data;
  const pairs = [
    [t("courier"), p.courier_name],
    [t("at"), `${day(p.at)} ${clock(p.at)}`],
    [t("outcome"), label("delivery_outcome", p.outcome)],
    [t("reason"), p.reason_code ? label("fail_reason", p.reason_code) : ""],
    [t("comment"), p.comment],
    [t("cash"), money(p.cash_collected)],
    [t("position"), p.lat !== null ? `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}` : "—"],
  ];
  fill(facts, pairs.filter(([, v]) => v).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  fill(
    images,
    p.images.map((i) =>
      el("figure", {}, el("img", { src: i.url, alt: label("proof_kind", i.kind), class: "dp-proof-image" }), el("figcaption", {}, label("proof_kind", i.kind))),
    ),
  );
}

autoForm.addEventListener("input", () => {
  state.autoTouched = true;
});
autoForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const minutes = Number(autoMinutes.value.trim());
  autoProblem.hidden = true;
  const res = await call(
    "PUT",
    url("auto_rule"),
    { enabled: autoOn.checked, after_minutes: Number.isInteger(minutes) ? minutes : autoMinutes.value },
    { idempotencyKey: randomKey() },
  );
  if (!res.ok) {
    const field = (res.data?.errors || []).find((e) => String(e.field || "").endsWith("after_minutes"));
    autoProblem.textContent = field ? t("auto_minutes_range") : problemText(res);
    autoProblem.hidden = false;
    return;
  }
  state.autoTouched = false;
  renderRule(res.data);
  say(t("saved"), true);
});

document.addEventListener("keydown", (ev) => {
  const target = ev.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return;
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
    ev.preventDefault();
    move(ev.key === "ArrowDown" ? 1 : -1);
  } else if (ev.key === "Enter" && selectedOrder() && !(target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement)) {
    ev.preventDefault();
    assign(0);
  } else if (/^[1-9]$/.test(ev.key) && selectedOrder()) {
    ev.preventDefault();
    assign(Number(ev.key) - 1);
  } else if ((ev.key === "u" || ev.key === "U") && selectedOrder()) {
    ev.preventDefault();
    unassign();
  }
});

refresh();
setInterval(() => {
  if (!document.hidden && !state.busy) refresh();
}, cfg.poll_ms || 5000);
