// The caller: phone lookup and the dossier (name, tags, warnings, tickets, statistics,
// loyalty, notes, order history with one-key repeat).

import { businessDay, call, clock, config, day, el, fill, label, money, problemText, t, toMinor, url } from "frontoffice/shared.js";
import { focusCart, replaceCart } from "./cart.js";
import { clearErrors, showErrors } from "./errors.js";
import { findItem, loadMenu } from "./menu.js";
import { emit, state } from "./state.js";
import { openTicket, orderName, ticketsOffered } from "./tickets.js";

/** True when the current user may change an order in its state (the page's ``editable`` states). */
export const editable = (order) => Boolean(order) && (config().editable || []).includes(order.status);

let historyIndex = 0;
let announce = () => {};
let lookupSeq = 0;

const $ = (id) => document.getElementById(id);

/** Look the typed phone up and show the dossier. */
export async function lookup() {
  const raw = $("phone").value.trim();
  clearErrors("phone");
  if (!raw) {
    showErrors([{ field: "phone", message: t("phone_required") }], "phone");
    return;
  }
  const seq = ++lookupSeq;
  announce(t("looking_up"));
  const res = await call("GET", url("lookup", {}, { phone: raw }));
  if (seq !== lookupSeq) return;
  if (!res.ok) {
    announce("");
    const errors = res.data?.errors?.length
      ? res.data.errors.map((e) => ({ field: "phone", message: e.message }))
      : [{ field: "phone", message: problemText(res) }];
    showErrors(errors, "phone");
    return;
  }
  announce("");
  const data = res.data;
  state.phone = raw;
  state.lookup = data;
  state.client = data.client || null;
  state.name = state.client ? state.client.name || "" : state.name;
  render();
  emit("client");
  if (state.client && (data.orders || []).length) {
    $("repeat-last").focus();
  } else {
    $("client-name").focus();
  }
}

function statsRows(stats) {
  const rows = [
    [t("stats_orders"), stats.orders_count ?? stats.orders],
    [t("stats_delivered"), stats.delivered_count ?? stats.delivered],
    [t("stats_cancelled"), stats.cancelled_count ?? stats.cancelled],
    [t("stats_spent"), stats.total_spent != null ? money(stats.total_spent) : null],
    [t("stats_average"), stats.average_check != null ? money(stats.average_check) : null],
    [t("stats_last"), stats.last_order_at ? day(stats.last_order_at) : null],
  ];
  return rows.filter((r) => r[1] !== undefined && r[1] !== null);
}

function textOf(entry) {
  if (entry == null) return "";
  if (typeof entry === "string") return entry;
  return entry.message || entry.text || entry.title || entry.subject || entry.detail || JSON.stringify(entry);
}

/** Antifraud at first contact: {action, score, items: [{rule, reason, action, score}]} (or a plain list). */
function renderWarnings(warnings) {
  const box = $("warnings");
  const items = Array.isArray(warnings) ? warnings : warnings?.items || [];
  const action = Array.isArray(warnings) ? null : warnings?.action;
  const serious = action && action !== "none";
  if (!items.length && !serious) {
    box.hidden = true;
    fill(box);
    return;
  }
  box.hidden = false;
  box.className = `cc-warnings act-${action || "note"}`;
  fill(box,
    el("h3", { class: "cc-h3" }, "⚠ ", t("warnings"), warnings?.score ? el("span", { class: "muted" }, ` · ${t("risk_score", { n: warnings.score })}`) : null),
    serious && config().strings[`antifraud_${action}`] ? el("p", { class: "cc-warning strong" }, t(`antifraud_${action}`)) : null,
    ...items.map((w) => el("p", { class: "cc-warning" }, w.reason || textOf(w), w.rule ? el("span", { class: "muted small" }, ` — ${w.rule}`) : null)),
  );
}

/** Open (and recently closed) tickets: [{id, kind, status, subject, overdue, minutes_left, url}]. */
function renderTickets(tickets) {
  const box = $("tickets");
  const list = tickets || [];
  if (!list.length) {
    box.hidden = true;
    fill(box);
    return;
  }
  box.hidden = false;
  fill(box,
    el("h3", { class: "cc-h3" }, t("tickets")),
    el(
      "ul",
      { class: "cc-tickets" },
      ...list.map((tk) =>
        el(
          "li",
          { class: tk.overdue ? "overdue" : "" },
          tk.url ? el("a", { href: tk.url, target: "_blank", rel: "noopener" }, `#${tk.id}`) : `#${tk.id}`,
          " ",
          tk.subject || textOf(tk),
          " ",
          tk.order_number ? el("span", { class: "muted small" }, orderName({ number: tk.order_number, business_date: tk.order_date }), " ") : null,
          el("span", { class: `badge tk-${tk.status}` }, label("ticket_state", tk.status)),
          tk.overdue ? el("span", { class: "bad small" }, ` ${t("overdue")}`) : null,
        ),
      ),
    ),
  );
}

/** What the client was told: [{order_number, event_label, status, status_label, created_at, last_error}]. */
function renderNotifications(messages) {
  const box = $("notifications");
  const list = messages || [];
  box.hidden = !list.length;
  fill(box,
    list.length ? el("h3", { class: "cc-h3" }, t("messages_sent")) : null,
    list.length
      ? el(
          "ul",
          { class: "cc-tickets" },
          ...list.map((m) =>
            el(
              "li",
              { class: m.status === "failed" || m.status === "parked" ? "overdue" : "" },
              el("span", { class: "muted small" }, `${clock(m.created_at)} `),
              `${m.order_number} · ${m.event_label} `,
              el("span", { class: `badge nt-${m.status}` }, m.status_label),
              m.last_error && m.status !== "sent" ? el("span", { class: "muted small" }, ` ${m.last_error}`) : null,
            ),
          ),
        )
      : null,
  );
}

async function saveConsent(ev) {
  const client = state.client;
  if (!client) return;
  const wanted = ev.target.checked;
  const res = await call("PATCH", url("client", { id: client.id }), { marketing_consent: wanted });
  if (!res.ok) {
    ev.target.checked = !wanted;
    announce(problemText(res), true);
    return;
  }
  client.marketing_consent = wanted;
  announce(t("consent_saved"));
  render();
}

function linesSummary(order) {
  return (order.lines || []).map((l) => `${l.name} ×${l.quantity}`).join(", ");
}

function render() {
  const data = state.lookup;
  $("dossier-empty").hidden = Boolean(data);
  $("dossier").hidden = !data;
  if (!data) return;
  const client = state.client;
  const badge = $("client-badge");
  badge.textContent = client ? t("known_client") : t("new_client");
  badge.className = "badge " + (client ? "ok" : "new");
  $("client-phone").textContent = data.display_phone || data.phone || state.phone;
  $("client-name").value = state.name;
  $("client-hint").textContent = client
    ? client.created_at
      ? t("client_since", { date: day(client.created_at) })
      : ""
    : t("new_client_hint");

  const tags = client?.tags || [];
  const others = (client?.phones || []).filter((p) => !p.primary);
  const chips = [
    ...tags.map((tag) => el("li", { class: "tag" }, tag)),
    client?.marketing_consent ? el("li", { class: "tag consent" }, t("marketing_consent")) : null,
    ...others.map((p) => el("li", { class: "tag phone" }, p.display_phone || p.phone, p.label ? ` · ${p.label}` : "")),
  ];
  fill($("client-tags"), ...chips.filter(Boolean));
  $("consent-box").hidden = !client;
  $("client-consent").checked = Boolean(client?.marketing_consent);

  const sections = data.sections || {};
  renderWarnings(sections.warnings);
  renderTickets(sections.tickets);
  renderNotifications(sections.notifications);
  const bonus = sections.bonus || sections.loyalty;
  const bbox = $("bonus-client");
  if (bonus && typeof bonus === "object" && Object.keys(bonus).length) {
    bbox.hidden = false;
    fill(bbox,
      el("h3", { class: "cc-h3" }, t("bonus")),
      el(
        "dl",
        { class: "cc-dl" },
        ...Object.entries(bonus)
          .filter(([k]) => k !== "labels")
          .flatMap(([k, v]) => [el("dt", {}, bonus.labels?.[k] || k.replace(/_/g, " ")), el("dd", {}, typeof v === "object" ? textOf(v) : String(v))]),
      ),
    );
  } else {
    bbox.hidden = true;
  }

  const stats = data.stats;
  const sbox = $("stats");
  const rows = stats ? statsRows(stats) : [];
  sbox.hidden = !rows.length;
  fill(sbox, ...rows.map(([k, v]) => el("div", {}, el("span", { class: "muted small" }, k), el("strong", {}, v))));

  const notes = client?.notes || "";
  const nbox = $("notes");
  nbox.hidden = !notes;
  fill(nbox, el("h3", { class: "cc-h3" }, t("notes")), el("p", { class: "cc-notes" }, notes));

  renderHistory();
}

function renderHistory() {
  const orders = state.lookup?.orders || [];
  const repeatLast = $("repeat-last");
  repeatLast.hidden = !orders.length;
  if (orders.length) {
    fill(repeatLast, t("repeat_last"), " ", el("span", { class: "small" }, orders[0].number), " ", el("kbd", {}, "↵"));
  }
  const list = $("history");
  if (!orders.length) {
    fill(list, el("li", { class: "cc-empty small" }, t("no_orders")));
    return;
  }
  historyIndex = Math.min(historyIndex, orders.length - 1);
  fill(list,
    ...orders.map((o, i) =>
      el(
        "li",
        {
          class: i === historyIndex ? "sel" : "",
          tabindex: i === historyIndex ? 0 : -1,
          dataset: { index: i },
          onfocus: () => select(i, false),
        },
        el(
          "div",
          { class: "cc-hist-head" },
          el("strong", {}, o.number),
          el("span", { class: `badge st-${o.status}` }, label("order_status", o.status)),
          el("span", { class: "muted small" }, `${businessDay(o.business_date)} ${clock(o.created_at)}`),
          el("span", { class: "num" }, money(o.total)),
        ),
        el("div", { class: "small" }, linesSummary(o)),
        o.address_text ? el("div", { class: "small muted" }, o.address_text) : null,
        el(
          "button",
          { type: "button", class: "cc-repeat", tabindex: -1, onclick: () => repeat(o) },
          t("repeat"),
        ),
        editable(o)
          ? el(
              "button",
              { type: "button", class: "cc-repeat cc-edit-order", tabindex: -1, onclick: () => emit("edit", o) },
              t("edit"),
              " ",
              el("kbd", {}, "E"),
            )
          : null,
        ticketsOffered()
          ? el(
              "button",
              { type: "button", class: "cc-repeat cc-ticket", tabindex: -1, onclick: () => openTicket(o) },
              t("ticket"),
              " ",
              el("kbd", {}, t("ticket_key")),
            )
          : null,
      ),
    ),
  );
}

function select(i, focus = true) {
  const orders = state.lookup?.orders || [];
  if (!orders.length) return;
  historyIndex = (i + orders.length) % orders.length;
  const items = $("history").children;
  for (const [j, node] of [...items].entries()) {
    node.classList.toggle("sel", j === historyIndex);
    node.tabIndex = j === historyIndex ? 0 : -1;
  }
  if (focus) items[historyIndex]?.focus();
}

function onHistoryKey(ev) {
  if (ev.altKey || ev.ctrlKey) return;
  const orders = state.lookup?.orders || [];
  if (ev.key === "ArrowDown") select(historyIndex + 1);
  else if (ev.key === "ArrowUp") select(historyIndex - 1);
  else if (ev.key === "Enter" || ev.key === "r" || ev.key === "к") repeat(orders[historyIndex]);
  else if (ev.code === "KeyI" && ticketsOffered()) openTicket(orders[historyIndex]);
  else if (ev.code === "KeyE" && editable(orders[historyIndex])) emit("edit", orders[historyIndex]);
  else return;
  ev.preventDefault();
}

/** Copy a previous order into the cart (Alt+R: the one selected in the history, else the last). */
export async function repeat(order = null) {
  const orders = state.lookup?.orders || [];
  const chosen = order || orders[historyIndex] || orders[0];
  if (!chosen) return;
  clearErrors("repeat");
  const res = await call("POST", url("repeat_cart", { id: chosen.id }), {});
  if (!res.ok) {
    showErrors([{ field: "lines", message: problemText(res) }], "repeat");
    return;
  }
  const answer = res.data || {};
  const lines = Array.isArray(answer) ? answer : answer.lines || [];
  if (!state.menuBranchId && (answer.branch_id || chosen.branch_id)) await loadMenu(answer.branch_id || chosen.branch_id);
  const usable = [];
  const skipped = (answer.skipped || []).map((x) => x.name || x.sku || textOf(x));
  for (const line of lines) {
    // The menu knows options and the stop-list; the answer's own line stands in for items it lacks.
    const item = findItem({ item_id: line.item_id, sku: line.sku }) || {
      id: line.item_id,
      sku: line.sku,
      name: line.name,
      price_minor: toMinor(line.unit_price),
      modifier_groups: [],
      stopped: false,
    };
    if (item.stopped) {
      skipped.push(line.name || line.sku);
      continue;
    }
    const modifiers = (line.modifiers || []).map((m) => {
      const id = typeof m === "object" ? m.id ?? m.option_id : m;
      const option = item.modifier_groups.flatMap((g) => g.options).find((o) => o.id === id);
      return { id, name: option?.name || m.name || String(id), price_minor: option?.price_minor || 0 };
    });
    usable.push({ item, modifiers, quantity: line.quantity });
  }
  replaceCart(usable);
  emit("repeat", { order: chosen, answer });
  focusCart();
  announce(t("repeated", { number: chosen.number }) + (skipped.length ? " " + t("repeat_skipped", { names: skipped.join(", ") }) : ""), skipped.length > 0);
}

/** Forget the caller (next call). */
export function resetDossier() {
  lookupSeq += 1;
  historyIndex = 0;
  state.lookup = null;
  state.client = null;
  state.name = "";
  state.phone = "";
  $("phone").value = "";
  clearErrors("phone");
  render();
}

/** Wire the caller column; ``say`` shows short notices. */
export function initDossier(say) {
  announce = say;
  $("phone-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    lookup();
  });
  $("client-name").addEventListener("input", (ev) => {
    state.name = ev.target.value;
  });
  $("client-name").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.ctrlKey) {
      ev.preventDefault();
      document.getElementById("menu-search").focus();
    }
  });
  $("repeat-last").addEventListener("click", () => repeat((state.lookup?.orders || [])[0]));
  $("client-consent").addEventListener("change", saveConsent);
  $("history").addEventListener("keydown", onHistoryKey);
  const initial = config().phone;
  if (initial) {
    $("phone").value = initial;
    lookup();
  }
}

/** Put the keyboard on the phone field. */
export function focusPhone() {
  $("phone").focus();
  $("phone").select();
}

/** The order selected in the history when the keyboard is on it, else null. */
export function selectedOrder() {
  if (!$("history").contains(document.activeElement)) return null;
  return (state.lookup?.orders || [])[historyIndex] || null;
}

/** Put the keyboard on the history list. */
export function focusHistory() {
  const node = $("history").children[historyIndex];
  if (node && node.tabIndex >= -1) node.focus();
}
