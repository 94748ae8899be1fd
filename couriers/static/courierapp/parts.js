// Pieces of the courier app's screens shared by its cards and forms: distances, the promised time
// with minutes left, the sum with the payment and the change, a money field, the pool's order.

import { clock, el, label, money, t } from "frontoffice/shared.js";

export function distance(m) {
  if (m === null || m === undefined) return t("distance_unknown");
  return m >= 1000 ? t("km", { km: (m / 1000).toFixed(1) }) : t("m", { m: Math.round(m) });
}

/** Minutes as "{n} min …", or "{h} h {m} min …" from 90 minutes on: the key and its values. */
function span(which, minutes) {
  if (minutes < 90) return [`minutes_${which}`, { n: minutes }];
  return [`hours_${which}`, { h: Math.floor(minutes / 60), m: minutes % 60 }];
}

export function promise(order) {
  if (!order.promised_at) return null;
  const left = Math.round((Date.parse(order.promised_at) - Date.now()) / 60000);
  const late = left < 0;
  return el(
    "span",
    { class: late ? "late" : left <= 10 ? "soon" : "ok" },
    t("due", { time: clock(order.promised_at) }),
    " · ",
    late ? t(...span("late", -left)) : t(...span("left", left)),
  );
}

export function payment(order) {
  return el(
    "p",
    { class: "pay" },
    el("strong", {}, money(order.total)),
    " · ",
    label("payment_kind", order.payment_kind),
    order.change_due !== null && order.change_due !== undefined && order.change_from
      ? el("span", { class: "change" }, " · ", t("change_for", { amount: money(order.change_from), change: money(order.change_due) }))
      : null,
  );
}

export function nearestFirst(orders) {
  const far = Number.POSITIVE_INFINITY;
  return [...orders].sort(
    (a, b) =>
      (a.distance_from_courier_m ?? far) - (b.distance_from_courier_m ?? far) ||
      Date.parse(a.promised_at || 0) - Date.parse(b.promised_at || 0),
  );
}

export function moneyField(name, text, value) {
  return el(
    "label",
    { class: "field" },
    el("span", {}, text),
    el("input", { name, inputmode: "decimal", autocomplete: "off", value: value ?? "" }),
  );
}
