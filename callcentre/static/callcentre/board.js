// The live board: today's orders in status columns, kept current by the /callcentre socket;
// search by number or phone; the moves the state machine allows, and cancel with a reason; each
// card's receipts and the changes made after the order was taken, and the way to change it.

import { call, clock, config, day, displayPhone, el, fill, label, liveSocket, money, problemText, t, url } from "frontoffice/shared.js";

const cfg = config();
const $ = (id) => document.getElementById(id);
const ACTIVE_COLUMNS = ["new", "on_hold", "confirmed", "cooking", "ready", "in_delivery"];
const CLOSED = new Set(cfg.terminal);
const CLOSED_SHOWN = 60;
const orders = new Map(); // id → OrderOut
let branchFilter = "";
let query = "";
let statusTimer = null;

function say(text, warn = false) {
  const line = $("status-line");
  line.textContent = text || "";
  line.classList.toggle("warn", Boolean(warn));
  clearTimeout(statusTimer);
  if (text) statusTimer = setTimeout(() => (line.textContent = ""), 7000);
}

// --- data ----------------------------------------------------------------------------------------

async function loadAll() {
  say(t("loading"));
  const fresh = new Map();
  let page = 1;
  let total = 0;
  for (;;) {
    const res = await call("GET", url("orders", {}, { date: cfg.today, per_page: 200, page }));
    if (!res.ok) {
      say(problemText(res), true);
      return;
    }
    for (const o of res.data.items) fresh.set(o.id, o);
    total = res.data.total;
    if (fresh.size >= total || !res.data.items.length || page >= 10) break;
    page += 1;
  }
  orders.clear();
  for (const [id, o] of fresh) orders.set(id, o);
  say(fresh.size < total ? t("truncated", { shown: fresh.size, total }) : "");
  render();
}

async function refreshOrder(id, { flash = true } = {}) {
  const res = await call("GET", url("order", { id }));
  if (!res.ok) return;
  const order = res.data;
  if (order.business_date !== cfg.today && !orders.has(order.id)) return;
  orders.set(order.id, order);
  render(flash ? order.id : null);
}

// --- rendering -----------------------------------------------------------------------------------

function digits(s) {
  return String(s || "").replace(/\D/g, "");
}

function matches(o) {
  if (!query) return true;
  const q = query.toLowerCase();
  if (o.number.toLowerCase().includes(q)) return true;
  const d = digits(q);
  if (d.length >= 3) {
    // a number's tail ("003") or a phone in any format (8 912…, +7 912…, 912…)
    if (digits(o.number).endsWith(d)) return true;
    const phone = digits(o.client_phone);
    const local = d.length === 11 && (d[0] === "8" || d[0] === "7") ? d.slice(1) : d;
    if (phone.includes(local)) return true;
  } else if (d && digits(o.number).endsWith(d.padStart(3, "0"))) {
    return true;
  }
  return (o.client_name || "").toLowerCase().includes(q);
}

function isLate(o) {
  return o.promised_at && !CLOSED.has(o.status) && new Date(o.promised_at) < new Date();
}

function actionButtons(o) {
  if (!cfg.can_move) return null;
  const next = cfg.transitions[o.status] || [];
  if (!next.length) return null;
  return el(
    "div",
    { class: "bd-actions" },
    ...next
      .filter((s) => s !== "cancelled")
      .map((s) =>
        el("button", { type: "button", dataset: { id: o.id, to: s }, title: label("order_status", s) }, cfg.actions[s] || label("order_status", s)),
      ),
    next.includes("cancelled")
      ? el("button", { type: "button", class: "bd-cancel", dataset: { id: o.id, to: "cancelled" } }, cfg.actions.cancelled)
      : null,
    editLink(o),
  );
}

/** The way to change the order in the workspace, while the user may change it. */
function editLink(o) {
  if (!cfg.workspace_url || !(cfg.editable || []).includes(o.status)) return null;
  return el("a", { class: "bd-edit", href: `${cfg.workspace_url}?edit=${o.id}` }, t("edit"));
}

function card(o, flashId) {
  const classes = ["bd-card"];
  if (o.id === flashId) classes.push("flash");
  if (query) classes.push(matches(o) ? "match" : "dim");
  const closed = CLOSED.has(o.status);
  return el(
    "article",
    { class: classes.join(" "), id: `order-${o.id}`, dataset: { number: o.number, status: o.status } },
    el(
      "div",
      { class: "bd-card-head" },
      el("strong", {}, o.number),
      el("span", { class: "num" }, money(o.total)),
    ),
    el(
      "div",
      {},
      o.client_name || "",
      " ",
      el("span", { class: "muted" }, displayPhone(o.client_phone)),
      cfg.api.dial && o.client_phone
        ? el("button", { type: "button", class: "bd-dial", title: t("dial"), dataset: { dial: o.client_phone } }, "☎")
        : null,
    ),
    el(
      "div",
      { class: "bd-addr", title: o.address_text || "" },
      o.kind === "pickup" ? el("span", { class: "badge" }, label("order_kind", o.kind)) : o.address_text || label("order_kind", o.kind),
    ),
    el(
      "div",
      { class: "bd-times" },
      el("span", { class: "muted" }, clock(o.created_at)),
      closed
        ? el("span", { class: `badge st-${o.status}` }, label("order_status", o.status))
        : o.promised_at
          ? el("span", { class: isLate(o) ? "bd-late" : "muted" }, t("due", { time: clock(o.promised_at) }))
          : null,
      o.courier_id && !closed ? el("span", { class: "muted" }, t("courier", { id: o.courier_id })) : null,
    ),
    receiptsLine(o),
    editsLine(o),
    actionButtons(o),
  );
}

/** Who sells what: one receipt per organization and tax system, with its sum. */
function receiptsLine(o) {
  if (!(o.receipts || []).length) return null;
  return el("div", { class: "bd-receipts small" }, ...o.receipts.map((r) => el("span", { class: "bd-receipt", title: r.tax_system }, `${r.organization_name} ${money(r.total)}`)));
}

/** The changes made after the order was taken: the last one on the card, every one in its title. */
function editsLine(o) {
  const edits = o.edits || [];
  if (!edits.length) return null;
  const fields = (e) => Object.keys(e.changes || {}).map((f) => t(`edit_field_${f}`)).join(", ");
  const last = edits[edits.length - 1];
  return el(
    "div",
    { class: "bd-edits small", title: edits.map((e) => `${clock(e.at)}: ${fields(e)}${e.reason ? ` — ${e.reason}` : ""}`).join("\n") },
    `✎ ${t("edited", { time: clock(last.at) })}: ${fields(last)}`,
  );
}

function render(flashId = null) {
  const visible = [...orders.values()].filter((o) => !branchFilter || String(o.branch_id) === branchFilter);
  visible.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  const columns = ACTIVE_COLUMNS.map((status) => ({
    status,
    title: label("order_status", status),
    items: visible.filter((o) => o.status === status).reverse(),
  }));
  const closed = visible.filter((o) => CLOSED.has(o.status));
  columns.push({ status: "closed", title: t("closed_today"), items: closed.slice(0, CLOSED_SHOWN), count: closed.length });
  fill($("bd-grid"),
    ...columns.map((c) =>
      el(
        "section",
        { class: "bd-col", dataset: { status: c.status }, "aria-label": c.title },
        el("h2", {}, c.title, el("span", { class: "n" }, c.count ?? c.items.length)),
        el(
          "div",
          { class: "bd-cards" },
          c.items.length ? c.items.map((o) => card(o, flashId)) : el("p", { class: "cc-empty small" }, t("empty_column")),
        ),
      ),
    ),
  );
}

// --- moves -----------------------------------------------------------------------------------------

let pendingMove = null;

function askReason(order, to) {
  pendingMove = { order, to };
  const dialog = $("reason-dialog");
  const action = cfg.actions[to] || label("order_status", to);
  $("reason-h").textContent =
    to === "cancelled"
      ? t("cancel_title", { number: order.number })
      : t("reason_title", { action: action.replace(/…$/, ""), number: order.number });
  fill($("reason-ok"), to === "cancelled" ? t("confirm_cancel") : t("apply"), " ", el("kbd", {}, "↵"));
  $("reason-input").value = "";
  $("reason-error").textContent = "";
  $("reason-error").classList.remove("on");
  dialog.showModal();
  $("reason-input").focus();
}

async function move(order, to, reason = null) {
  const res =
    to === "cancelled"
      ? await call("POST", url("cancel", { id: order.id }), { reason })
      : await call("POST", url("status", { id: order.id }), {
          status: to,
          ...(reason ? { reason } : {}),
          expected_version: order.version,
        });
  if (res.ok) {
    orders.set(res.data.id, res.data);
    render(res.data.id);
    say(t("moved", { number: res.data.number, status: label("order_status", res.data.status) }));
    return true;
  }
  if (res.status === 409) {
    say(t("conflict", { number: order.number }), true);
    await refreshOrder(order.id);
    return true;
  }
  const message = res.data?.errors?.length ? res.data.errors.map((e) => e.message).join(" ") : problemText(res);
  if (pendingMove) {
    $("reason-error").textContent = message;
    $("reason-error").classList.add("on");
    return false;
  }
  say(message, true);
  return false;
}

async function onReasonSubmit(ev) {
  ev.preventDefault();
  const reason = $("reason-input").value.trim();
  if (!reason) {
    $("reason-error").textContent = t("reason_required");
    $("reason-error").classList.add("on");
    return;
  }
  const { order, to } = pendingMove;
  if (await move(order, to, reason)) {
    pendingMove = null;
    $("reason-dialog").close();
  }
}

async function dial(phone) {
  const res = await call("POST", url("dial"), { phone });
  say(res.ok ? t("dialing", { phone: displayPhone(res.data.phone) }) : problemText(res), !res.ok);
}

function onGridClick(ev) {
  const dialing = ev.target.closest("button[data-dial]");
  if (dialing) {
    dial(dialing.dataset.dial);
    return;
  }
  const button = ev.target.closest("button[data-to]");
  if (!button) return;
  const order = orders.get(Number(button.dataset.id));
  if (!order) return;
  const to = button.dataset.to;
  if (cfg.needs_reason.includes(to)) askReason(order, to);
  else move(order, to);
}

// --- search and live updates ------------------------------------------------------------------------

function onSearch() {
  query = $("bd-search").value.trim();
  render();
  if (!query) return;
  const first = document.querySelector(".bd-card.match");
  if (first) first.scrollIntoView({ block: "nearest", inline: "nearest" });
  else say(t("not_found", { q: query }), true);
}

function connect() {
  const live = $("bd-live");
  const socket = liveSocket("/callcentre", (up) => {
    live.classList.toggle("on", up);
    live.textContent = up ? t("live") : t("offline");
  });
  if (!socket) return;
  let first = true;
  socket.on("connect", () => {
    if (!first) loadAll(); // catch up on what happened while disconnected
    first = false;
  });
  for (const name of ["order_placed", "order_status_changed", "courier_assigned", "order_edited"]) {
    socket.on(name, (data) => refreshOrder(data.order_id));
  }
}

function init() {
  $("bd-date").textContent = day(`${cfg.today}T12:00:00Z`);
  $("bd-grid").addEventListener("click", onGridClick);
  $("bd-search").addEventListener("input", onSearch);
  $("bd-branch").addEventListener("change", (ev) => {
    branchFilter = ev.target.value;
    render();
  });
  $("reason-form").addEventListener("submit", onReasonSubmit);
  $("reason-cancel").addEventListener("click", () => {
    pendingMove = null;
    $("reason-dialog").close();
  });
  $("reason-dialog").addEventListener("close", () => {
    pendingMove = null;
  });
  document.addEventListener("keydown", (ev) => {
    if (document.querySelector("dialog[open]")) return;
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName);
    if (ev.key === "/" && !typing) {
      ev.preventDefault();
      $("bd-search").focus();
    } else if (ev.key === "Escape" && ev.target.id === "bd-search") {
      $("bd-search").value = "";
      onSearch();
    }
  });
  render();
  loadAll();
  connect();
}

init();
