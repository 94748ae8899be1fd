// The courier's app (couriers/app_views.py serves the shell): log in, the shift, the pool nearest
// first and live over the /courier namespace, my orders, pick up, deliver (cash, photo, signature),
// fail with a reason, the shift report. Only the public courier API (/api/courier/v1) is used; every
// action goes through the outbox (outbox.js), so a bad network only delays it.

import { clock, config, el, fill, label, money, t, toMinor, minorToDecimal } from "frontoffice/shared.js";
import { deliverForm, failForm } from "./forms.js";
import * as outbox from "./outbox.js";
import { distance, moneyField, nearestFirst, payment, promise } from "./parts.js";
import { lastFix, trackPositions } from "./positions.js";

const API = config().api;
const $ = (sel) => document.querySelector(sel);
const orderPath = (name, id) => API[name].replace("{id}", encodeURIComponent(id));
const SNAPSHOT_KEY = "courierapp.snapshot";
const DEVICE_KEY = "courierapp.device";

const state = {
  me: null,
  pool: [],
  mine: [],
  shiftReport: null,
  closedReport: null,
  tab: "pool",
  view: null, // {kind: "deliver" | "fail", order}
  queue: [],
  live: false,
};

// --- notices ---------------------------------------------------------------------------------------

let noticeTimer = null;

function notify(text, kind = "info") {
  const node = $("#notice");
  node.textContent = text;
  node.className = `notice ${kind}`;
  node.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    node.hidden = true;
  }, 10000);
}

$("#notice").addEventListener("click", () => {
  $("#notice").hidden = true;
});

function alertNewOrder(number) {
  notify(t("new_order", { number }), "new");
  if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.onended = () => audio.close();
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch {
    // no sound on this phone: the vibration and the notice remain
  }
}

// --- loading -----------------------------------------------------------------------------------------

function saveSnapshot() {
  const { me, pool, mine, shiftReport } = state;
  localStorage.setItem(SNAPSHOT_KEY, JSON.stringify({ me, pool, mine, shiftReport }));
}

function loadSnapshot() {
  try {
    Object.assign(state, JSON.parse(localStorage.getItem(SNAPSHOT_KEY)) || {});
  } catch {
    // a broken snapshot is only a missing one
  }
}

function expired() {
  outbox.forgetSession(t("session_expired"));
  state.me = null;
  renderLogin(t("session_expired"));
}

/** Reload what the server knows (me, pool, my orders, the shift so far); keeps the last state offline. */
async function reload() {
  const [me, pool, mine] = await Promise.all([
    outbox.api("GET", API.me),
    outbox.api("GET", API.available),
    outbox.api("GET", API.active),
  ]);
  if ([me, pool, mine].some(outbox.sessionDied)) return expired();
  if (me.status === 403) {
    // switched off, no courier profile any more, or a password to change: nothing works but a new login
    const reason = (me.data && me.data.detail) || t("not_a_courier");
    outbox.forgetSession(reason); // kept for the login screen, even across a reload
    state.me = null;
    return renderLogin(reason);
  }
  if (!me.ok && !state.me) {
    fill($("#screen"), el("p", { class: "empty" }, t("network_error"))); // nothing known yet to show
    return;
  }
  if (me.ok) state.me = me.data;
  if (pool.ok) state.pool = pool.data.items;
  if (mine.ok) state.mine = mine.data.items;
  if (state.me && state.me.shift) {
    const report = await outbox.api("GET", API.shift);
    if (report.ok) state.shiftReport = report.data;
  }
  saveSnapshot();
  render();
}

// --- the outbox as the courier sees it --------------------------------------------------------------

function waitingFor(orderId) {
  return state.queue.filter((e) => e.state === "waiting" && e.order_id === orderId).map((e) => e.kind);
}

function actionText(entry) {
  return t(`action_${entry.kind}`, { number: entry.number || "" });
}

/** What a refusal means, in the courier's language where the API names it; else the API's detail. */
function refusal(e) {
  const problem = e.problem || {};
  if (e.kind === "claim" && problem.code === "taken") return t("claim_lost", { number: e.number });
  if (e.kind === "pickup" && ["confirmed", "cooking"].includes(problem.current_status)) return t("not_ready");
  if (e.status === 404) return t("not_yours", { number: e.number });
  return e.detail;
}

/** The courier has read a refusal: forget it, and the notice that told of it. */
function read(entry) {
  $("#notice").hidden = true;
  outbox.dismiss(entry.key);
}

function renderOutbox() {
  const box = $("#outbox");
  const waiting = state.queue.filter((e) => e.state === "waiting");
  const refused = state.queue.filter((e) => e.state === "refused");
  box.hidden = waiting.length + refused.length === 0;
  fill(
    box,
    waiting.length ? el("h2", {}, t("outbox_sending", { n: waiting.length })) : null,
    waiting.length ? el("ul", { class: "waiting" }, waiting.map((e) => el("li", { dataset: { kind: e.kind } }, actionText(e)))) : null,
    refused.map((e) =>
      el(
        "div",
        { class: "refused", dataset: { kind: e.kind, status: e.status } },
        el("strong", {}, `${t("outbox_refused")}: ${actionText(e)}`),
        el("p", {}, refusal(e)),
        el("button", { type: "button", class: "small", onclick: () => read(e) }, t("dismiss")),
      ),
    ),
  );
}

async function queueChanged() {
  state.queue = await outbox.pending();
  renderOutbox();
  render();
}

outbox.onChange(queueChanged);

outbox.onAnswer((entry, res) => {
  if (outbox.sessionDied(res)) return expired();
  if (res.ok) {
    if (entry.kind === "claim") notify(t("claimed", { number: entry.number }), "ok");
    if (entry.kind === "shift_end") {
      state.closedReport = res.data;
      state.tab = "shift";
    }
  } else {
    const refused = { ...entry, status: res.status, problem: res.data, detail: res.data?.detail || res.status };
    const lostRace = entry.kind === "claim" && res.data?.code === "taken";
    notify(lostRace ? refusal(refused) : `${actionText(entry)}: ${refusal(refused)}`, "error");
    if (entry.kind === "claim") state.pool = state.pool.filter((o) => o.id !== entry.order_id);
  }
  reload();
});

// --- screens -----------------------------------------------------------------------------------------

function poolCard(order) {
  const waiting = waitingFor(order.id).includes("claim");
  return el(
    "article",
    { class: "card", dataset: { orderId: order.id } },
    el("header", {}, el("h3", {}, order.number), el("span", { class: "distance" }, distance(order.distance_from_courier_m))),
    el("p", { class: "when" }, promise(order)),
    payment(order),
    el("p", { class: "address" }, order.address_text),
    order.comment ? el("p", { class: "comment" }, order.comment) : null,
    el(
      "button",
      { type: "button", class: "big claim", disabled: waiting, onclick: () => claim(order) },
      waiting ? t("waiting") : t("claim"),
    ),
  );
}

function renderPool() {
  if (!state.pool.length) return [el("p", { class: "empty" }, t("pool_empty"))];
  return nearestFirst(state.pool).map(poolCard);
}

function links(order) {
  const out = [];
  if (order.lat !== null && order.lon !== null) {
    const q = encodeURIComponent(order.address_text);
    out.push(el("a", { class: "button", href: `geo:${order.lat},${order.lon}?q=${order.lat},${order.lon}(${q})` }, t("navigate")));
    out.push(
      el(
        "a",
        {
          class: "button",
          href: `https://www.openstreetmap.org/?mlat=${order.lat}&mlon=${order.lon}#map=17/${order.lat}/${order.lon}`,
          target: "_blank",
          rel: "noopener",
        },
        t("map"),
      ),
    );
  }
  if (order.client_phone) out.push(el("a", { class: "button", href: `tel:${order.client_phone}` }, t("call")));
  return el("p", { class: "links" }, out);
}

function mineCard(order) {
  const waiting = waitingFor(order.id);
  const finishing = waiting.includes("deliver") || waiting.includes("fail");
  const pickedUp = order.status === "in_delivery" || waiting.includes("pickup");
  let actions;
  if (finishing) {
    actions = el("p", { class: "waiting-note" }, t("waiting"));
  } else if (pickedUp) {
    actions = el(
      "div",
      { class: "actions" },
      el("button", { type: "button", class: "big deliver", onclick: () => open("deliver", order) }, t("deliver")),
      el("button", { type: "button", class: "big fail", onclick: () => open("fail", order) }, t("fail")),
    );
  } else {
    actions = el("button", { type: "button", class: "big pickup", onclick: () => pickup(order) }, t("pickup"));
  }
  return el(
    "article",
    { class: "card mine", dataset: { orderId: order.id, status: order.status } },
    el("header", {}, el("h3", {}, order.number), el("span", { class: "status" }, label("order_status", order.status))),
    el("p", { class: "when" }, promise(order)),
    payment(order),
    el("p", { class: "address" }, order.address_text),
    order.comment ? el("p", { class: "comment" }, order.comment) : null,
    el("p", { class: "branch" }, t("from_branch", { branch: `${order.branch_name}, ${order.branch_address}` })),
    links(order),
    pickedUp && !finishing && waiting.includes("pickup") ? el("p", { class: "waiting-note" }, `${t("pickup")}: ${t("waiting")}`) : null,
    actions,
  );
}

function renderMine() {
  if (!state.mine.length) return [el("p", { class: "empty" }, t("mine_empty"))];
  return state.mine.map(mineCard);
}

/** A money field of a screen that live refreshes redraw: what the courier has typed (and the focus)
 * survive the redraw; ``value`` is the first value shown. */
function keptMoneyField(formId, name, text, value) {
  const typed = document.querySelector(`#${formId} input[name=${name}]`);
  if (typed && document.activeElement === typed) {
    // Focus and the caret or selection move to the redrawn field: a redraw between selecting the
    // "0" and typing over it must not put "1000" beside it ("10000").
    const [start, end] = [typed.selectionStart, typed.selectionEnd];
    queueMicrotask(() => {
      const field = document.querySelector(`#${formId} input[name=${name}]`);
      field?.focus();
      field?.setSelectionRange(start, end);
    });
  }
  // Untouched, it shows the fresh value; once typed in, what was typed, redraw after redraw.
  const edited = typed && (typed.dataset.edited === "1" || typed.value !== typed.defaultValue);
  const field = moneyField(name, text, edited ? typed.value : value);
  if (edited) field.querySelector("input").dataset.edited = "1";
  return field;
}

function renderStartShift() {
  const waiting = state.queue.some((e) => e.kind === "shift_start" && e.state === "waiting");
  return [
    el("h2", {}, t("no_shift")),
    el(
      "form",
      { class: "form", id: "shift-start", onsubmit: startShift },
      keptMoneyField("shift-start", "opening_cash", t("change_float"), "0"),
      el("p", { class: "error", id: "shift-start-error" }),
      el("button", { type: "submit", class: "big", disabled: waiting }, waiting ? t("waiting") : t("start_shift")),
    ),
  ];
}

function reportRows(report) {
  const rows = [
    [t("orders_delivered"), report.delivered],
    [t("orders_failed"), report.failed],
    [t("cash_expected"), money(report.cash_expected)],
  ];
  if (report.shift.cash_handed_in !== null) rows.push([t("cash_handed_in"), money(report.shift.cash_handed_in)]);
  else rows.push([t("cash_on_hand"), money(report.shift.cash_on_hand)]);
  if (report.discrepancy !== null) rows.push([t("discrepancy"), money(report.discrepancy)]);
  return el(
    "dl",
    { class: "report" },
    rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]),
    el("dt", {}, t("started", { time: clock(report.shift.started_at) })),
    el("dd", {}, t("distance_km", { km: report.distance_km })),
  );
}

function renderShift() {
  const report = state.shiftReport;
  const shift = state.me.shift;
  const waiting = state.queue.some((e) => e.kind === "shift_end" && e.state === "waiting");
  return [
    el("h2", {}, t("shift_report")),
    report ? reportRows(report) : null,
    el(
      "form",
      { class: "form", id: "shift-end", onsubmit: endShift },
      keptMoneyField("shift-end", "cash_handed_in", t("cash_handed_in"), shift.cash_on_hand),
      el("p", { class: "error", id: "shift-end-error" }),
      el("button", { type: "submit", class: "big", disabled: waiting }, waiting ? t("waiting") : t("end_shift")),
    ),
  ];
}

function renderClosedReport() {
  return [
    el("h2", {}, t("shift_closed")),
    reportRows(state.closedReport),
    el(
      "button",
      {
        type: "button",
        class: "big",
        onclick: () => {
          state.closedReport = null;
          render();
        },
      },
      t("dismiss"),
    ),
  ];
}

function render() {
  if (!outbox.session() || !state.me) return;
  $("#who").textContent = state.me.courier.name;
  $("#logout").hidden = false;
  $("#langs").hidden = true;
  const screen = $("#screen");
  const onShift = Boolean(state.me.shift) || state.queue.some((e) => e.kind === "shift_start" && e.state === "waiting");
  $("#tabs").hidden = !onShift || Boolean(state.view) || Boolean(state.closedReport);
  for (const b of document.querySelectorAll("#tabs button")) {
    b.classList.toggle("active", b.dataset.tab === state.tab);
    b.textContent = b.dataset.tab === "mine" && state.mine.length ? `${t("mine")} (${state.mine.length})` : t(b.dataset.tab);
  }
  if (state.view) return; // a form is open: do not wipe what the courier is typing
  screen.dataset.screen = state.closedReport ? "report" : !state.me.shift ? "start" : state.tab;
  if (state.closedReport) fill(screen, renderClosedReport());
  else if (!state.me.shift) fill(screen, renderStartShift());
  else if (state.tab === "pool") fill(screen, renderPool());
  else if (state.tab === "mine") fill(screen, renderMine());
  else fill(screen, renderShift());
}

for (const b of document.querySelectorAll("#tabs button")) {
  b.addEventListener("click", () => {
    state.tab = b.dataset.tab;
    render();
  });
}

// --- actions -----------------------------------------------------------------------------------------

function amount(form, name, errorId) {
  const minor = toMinor(form.elements[name].value);
  if (Number.isNaN(minor) || minor < 0) {
    $(`#${errorId}`).textContent = t("bad_amount");
    form.elements[name].focus();
    return null;
  }
  return minorToDecimal(minor);
}

function startShift(ev) {
  ev.preventDefault();
  const opening = amount(ev.target, "opening_cash", "shift-start-error");
  if (opening === null) return;
  outbox.enqueue("shift_start", "POST", API.shift_start, { opening_cash: opening });
}

function endShift(ev) {
  ev.preventDefault();
  const handed = amount(ev.target, "cash_handed_in", "shift-end-error");
  if (handed === null) return;
  outbox.enqueue("shift_end", "POST", API.shift_end, { cash_handed_in: handed });
}

function claim(order) {
  outbox.enqueue("claim", "POST", orderPath("claim", order.id), undefined, { order_id: order.id, number: order.number });
}

function pickup(order) {
  outbox.enqueue("pickup", "POST", orderPath("pickup", order.id), undefined, { order_id: order.id, number: order.number });
}

function close() {
  state.view = null;
  render();
}

function open(kind, order) {
  state.view = { kind, order };
  $("#tabs").hidden = true;
  const screen = $("#screen");
  screen.dataset.screen = kind;
  const done = (body) => {
    close();
    outbox.enqueue(kind, "POST", orderPath(kind, order.id), body, { order_id: order.id, number: order.number });
  };
  const form = kind === "deliver" ? deliverForm : failForm;
  fill(screen, form(order, { done, back: close, here: lastFix }));
  window.scrollTo(0, 0);
}

// --- live pool -------------------------------------------------------------------------------------

function connect() {
  if (typeof window.io !== "function") return;
  const socket = window.io(config().namespace, {
    transports: ["websocket", "polling"],
    auth: (cb) => cb({ token: outbox.session()?.token }),
  });
  const conn = $("#conn");
  const show = (up) => {
    state.live = up;
    conn.textContent = up ? t("live") : t("offline");
    conn.className = `conn ${up ? "on" : "off"}`;
  };
  socket.on("connect", () => {
    show(true);
    reload();
    outbox.flush();
  });
  socket.on("disconnect", () => show(false));
  socket.on("connect_error", () => {
    show(false);
    if (!socket.active) setTimeout(() => socket.connect(), 10000);
  });
  socket.on("order_available", (o) => {
    if (!state.pool.some((p) => p.id === o.order_id)) alertNewOrder(o.number);
    reload();
  });
  const drop = (o) => {
    state.pool = state.pool.filter((p) => p.id !== o.order_id);
    render();
  };
  socket.on("order_taken", drop);
  socket.on("order_withdrawn", drop);
  for (const event of ["order_assigned", "order_unassigned", "order_ready", "order_cancelled", "order_changed"]) socket.on(event, () => reload());
  return socket;
}

// --- session ---------------------------------------------------------------------------------------

function renderLogin(message = "") {
  $("#who").textContent = t("login");
  $("#logout").hidden = true;
  $("#tabs").hidden = true;
  $("#langs").hidden = false;
  const screen = $("#screen");
  screen.dataset.screen = "login";
  const error = el("p", { class: "error", id: "login-error", role: "alert" }, message);
  const submit = async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const body = {
      login: form.elements.username.value.trim(),
      password: form.elements.password.value,
      device_name: form.elements.device_name.value.trim() || "phone",
    };
    localStorage.setItem(DEVICE_KEY, body.device_name);
    error.textContent = t("logging_in");
    const res = await outbox.api("POST", API.session, body, { token: null });
    if (res.ok) {
      outbox.keepSession(res.data);
      if (res.data.must_change_password) renderNewPassword(body.password);
      else start();
    } else if (res.status === 0) error.textContent = t("network_error");
    else if (res.status === 403) error.textContent = t("not_a_courier");
    else error.textContent = t("login_failed");
  };
  fill(
    screen,
    el(
      "form",
      { class: "form", id: "login-form", onsubmit: submit },
      el("label", { class: "field" }, el("span", {}, t("username")), el("input", { name: "username", autocomplete: "username", required: true, autocapitalize: "none" })),
      el("label", { class: "field" }, el("span", {}, t("password")), el("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
      el("label", { class: "field" }, el("span", {}, t("device_name")), el("input", { name: "device_name", maxlength: 100, value: localStorage.getItem(DEVICE_KEY) || "" })),
      error,
      el("button", { type: "submit", class: "big" }, t("login")),
    ),
  );
}

/** After an admin's reset every call but this one answers 403: choose a new password first. */
function renderNewPassword(current) {
  $("#who").textContent = outbox.session().courier.name;
  const screen = $("#screen");
  screen.dataset.screen = "password";
  const error = el("p", { class: "error", id: "password-error", role: "alert" });
  const submit = async (ev) => {
    ev.preventDefault();
    const body = { current_password: current, new_password: ev.target.elements.new_password.value };
    const res = await outbox.api("POST", API.password, body);
    if (res.ok) start();
    else if (res.status === 0) error.textContent = t("network_error");
    else if (res.status === 422) error.textContent = t("weak_password");
    else expired();
  };
  fill(
    screen,
    el(
      "form",
      { class: "form", id: "password-form", onsubmit: submit },
      el("h2", {}, t("password_reset")),
      el("label", { class: "field" }, el("span", {}, t("new_password")), el("input", { name: "new_password", type: "password", autocomplete: "new-password", required: true })),
      error,
      el("button", { type: "submit", class: "big" }, t("save_password")),
    ),
  );
}

$("#logout").addEventListener("click", async () => {
  const unsent = state.queue.some((e) => e.state === "waiting");
  if (unsent && !window.confirm(t("logout_confirm"))) return;
  const res = await outbox.api("DELETE", API.session);
  if (res.status === 0 || res.status >= 500) {
    notify(t("network_error"), "error"); // the token must die on the server, not only on the phone
    return;
  }
  outbox.forgetSession();
  for (const e of state.queue) await outbox.dismiss(e.key);
  localStorage.removeItem(SNAPSHOT_KEY);
  localStorage.removeItem("courierapp.positions");
  window.location.reload();
});

let socket = null;
let started = false;

async function start() {
  state.queue = await outbox.pending();
  renderOutbox();
  loadSnapshot();
  render();
  await outbox.refreshIfDue();
  await reload();
  if (!started) {
    started = true;
    // distances come with the first position: reload a pool that has none yet
    trackPositions(() => state.pool.some((o) => o.distance_from_courier_m === null) && reload());
    socket = connect();
    setInterval(render, 30000); // minutes left
    setInterval(() => outbox.refreshIfDue(), 60000);
  } else if (socket) {
    socket.disconnect().connect();
  }
  outbox.flush();
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(config().service_worker, { scope: config().scope }).catch(() => {});
}

if (outbox.session()) start();
else renderLogin(outbox.signedOutReason());
