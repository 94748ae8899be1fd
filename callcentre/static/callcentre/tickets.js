// Tickets from the call: what the operator cannot solve on the phone goes to the back office as a
// ticket about the caller or one of their orders, in two keys — Alt+I anywhere (about the caller),
// or Alt+H then Alt+I (or I) for the order selected in the history. Orders are named as the
// operator sees them: their number with its day ("KZ1-007 of 05.12.2026"), never an internal id.
// The ticket API belongs to another package, which offers it to the workspace as ``tickets`` in
// the page's API table; without it the ticket button and keys do nothing.

import { businessDay, call, config, el, fill, label, money, problemText, randomKey, t, url } from "frontoffice/shared.js";
import { clearErrors, showErrors } from "./errors.js";
import { state } from "./state.js";

const $ = (id) => document.getElementById(id);
let announce = () => {};
let refresh = async () => {};
let orders = [];

/** True when a ticket endpoint is offered to the workspace. */
export function ticketsOffered() {
  return Boolean(config().api.tickets);
}

/** An order as the operator names it: its number and its day. */
export function orderName(order) {
  return t("order_named", { number: order.number, date: businessDay(order.business_date) });
}

function kinds() {
  return Object.entries(config().labels?.ticket_kind || {});
}

/**
 * Open the ticket form about the caller, with ``order`` (one of the dossier's orders) chosen when
 * given. Answers false when there is no caller to open it about.
 */
export function openTicket(order = null) {
  if (!ticketsOffered()) return false;
  if (!state.lookup) {
    announce(t("ticket_needs_caller"), true);
    return false;
  }
  orders = state.lookup.orders || [];
  const select = $("ticket-order");
  fill(
    select,
    el("option", { value: "" }, t("ticket_no_order")),
    ...orders.map((o, i) => el("option", { value: String(i) }, orderName(o), " · ", label("order_status", o.status), " · ", money(o.total))),
  );
  const index = order ? orders.findIndex((o) => o.id === order.id) : -1;
  select.value = index >= 0 ? String(index) : "";
  const kind = $("ticket-kind");
  if (!kind.options.length) fill(kind, ...kinds().map(([code, text]) => el("option", { value: code }, text)));
  $("ticket-subject").value = "";
  $("ticket-body").value = "";
  $("ticket-about").textContent = t("ticket_about", { phone: state.lookup.display_phone || state.lookup.phone });
  clearErrors("ticket");
  $("ticket-dialog").showModal();
  $("ticket-subject").focus();
  return true;
}

function localized(errors) {
  return (errors || []).map((e) => {
    const params = { ...(e.params || {}) };
    if (params.date) params.date = businessDay(params.date);
    return { ...e, field: `ticket.${e.field || ""}`, params };
  });
}

async function submit(ev) {
  ev.preventDefault();
  const subject = $("ticket-subject").value.trim();
  if (!subject) {
    showErrors([{ field: "ticket.subject", message: t("ticket_subject_required") }], "ticket");
    $("ticket-subject").focus();
    return;
  }
  const chosen = orders[Number.parseInt($("ticket-order").value, 10)];
  const body = {
    kind: $("ticket-kind").value,
    subject,
    body: $("ticket-body").value.trim(),
    client_phone: state.lookup?.phone || "",
  };
  if (chosen) {
    body.order_number = chosen.number;
    body.order_date = chosen.business_date;
  }
  const button = $("ticket-submit");
  button.disabled = true;
  const res = await call("POST", url("tickets"), body, { idempotencyKey: randomKey() });
  button.disabled = false;
  if (!res.ok) {
    const errors = res.data?.errors?.length ? localized(res.data.errors) : [{ field: "ticket", message: problemText(res) }];
    showErrors(errors, "ticket");
    return;
  }
  clearErrors("ticket");
  $("ticket-dialog").close();
  await refresh(); // the dossier's tickets show the new one (the lookup clears the notice line first)
  announce(t("ticket_opened", { id: res.data.id }));
}

/** Wire the ticket form; ``say`` shows short notices, ``reload`` re-reads the caller's dossier. */
export function initTickets(say, reload) {
  announce = say;
  refresh = reload;
  const offered = ticketsOffered();
  $("ticket-open").hidden = !offered;
  if (!offered) return;
  $("ticket-open").addEventListener("click", () => openTicket());
  $("ticket-form").addEventListener("submit", submit);
  $("ticket-cancel").addEventListener("click", () => $("ticket-dialog").close());
  $("ticket-form").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      $("ticket-form").requestSubmit();
    }
  });
}
