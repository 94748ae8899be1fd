// How the client pays, the comment, the receipts split by organization, the total, and
// placing the order (one Idempotency-Key per attempt, so a double Ctrl+Enter makes one order).

import { call, clock, day, debounce, el, fill, label, minorToDecimal, money, problemText, randomKey, t, toMinor, url, when } from "frontoffice/shared.js";
import { apiLines, itemsMinor } from "./cart.js";
import { apiAddress, branchChosenByOperator } from "./delivery.js";
import { startEdit, stopEdit } from "./editing.js";
import { clearErrors, showErrors } from "./errors.js";
import { emit, on, state } from "./state.js";

const $ = (id) => document.getElementById(id);
let attempt = null; // {body, key, settled}
let receiptsSeq = 0;
let announce = () => {};

function totalMinor() {
  if (state.quote && state.quote.total != null) return toMinor(state.quote.total);
  return itemsMinor();
}

function renderTotal() {
  $("grand-total").textContent = state.cart.length ? money(totalMinor(), { minor: true }) : "—";
  const fee = state.kind === "delivery" && state.quote?.zone ? toMinor(state.quote.delivery_fee) : null;
  $("total-parts").textContent =
    state.cart.length && fee !== null
      ? `${money(itemsMinor(), { minor: true })} + ${t("delivery_fee").toLowerCase()} ${fee ? money(fee, { minor: true }) : t("free")}`
      : "";
  checkChange();
}

function setPayment(kind) {
  const changed = state.payment !== kind;
  state.payment = kind;
  if (changed) requestReceipts();
  for (const r of document.querySelectorAll('input[name="payment"]')) r.checked = r.value === kind;
  $("change-box").hidden = kind !== "cash";
  clearErrors("payment");
}

function checkChange() {
  clearErrors("change");
  if (state.payment !== "cash" || !state.changeFrom.trim()) return true;
  const note = toMinor(state.changeFrom);
  if (Number.isNaN(note) || (state.cart.length && note < totalMinor())) {
    showErrors([{ field: "payment.change_from", message: t("change_from_low", { total: money(totalMinor(), { minor: true }) }) }], "change");
    return false;
  }
  return true;
}

// --- receipts ----------------------------------------------------------------------------------

const requestReceipts = debounce(async () => {
  const seq = ++receiptsSeq;
  const box = $("receipts");
  const branchId = branchChosenByOperator() ? state.pickupBranchId : state.quote?.branch_id;
  if (!state.cart.length || !branchId) {
    box.hidden = true;
    state.receipts = null;
    return;
  }
  // A line's note for the kitchen is no part of a receipt.
  const lines = apiLines().map(({ comment, ...line }) => line);
  const body = { branch_id: branchId, kind: state.kind, payment_kind: state.payment, lines };
  if (state.kind === "delivery" && state.quote?.delivery_fee != null) body.delivery_fee = state.quote.delivery_fee;
  const res = await call("POST", url("receipts"), body);
  if (seq !== receiptsSeq) return;
  state.receipts = res.ok ? res.data : null;
  if (!res.ok) {
    // A cart no distribution condition covers cannot be sold: say so before the operator submits.
    const errors = res.data?.errors?.length ? res.data.errors : [{ field: "lines", message: problemText(res) }];
    showErrors(errors.map((e) => ({ ...e, field: e.field?.startsWith("lines") ? e.field : "lines" })), "receipts");
    box.hidden = true;
    return;
  }
  clearErrors("receipts");
  renderReceipts();
}, 300);

function renderReceipts() {
  const data = state.receipts;
  const box = $("receipts");
  const receipts = data?.receipts || [];
  box.hidden = !receipts.length;
  fill(box,
    el("h3", { class: "cc-h3" }, t("receipts"), " ", el("span", { class: "muted small" }, receipts.length)),
    ...receipts.map((r) => {
      const vat = (r.vat || []).filter((v) => v.vat_rate !== "none" && toMinor(v.vat) > 0);
      const org = r.organization || {};
      return el(
        "div",
        { class: "cc-receipt" },
        el("div", { class: "cc-receipt-head" }, el("strong", {}, org.name || ""), el("span", { class: "num" }, money(r.total))),
        el(
          "div",
          { class: "small muted" },
          [
            label("tax_system", r.tax_system),
            org.inn ? `${t("inn")} ${org.inn}` : "",
            vat.length ? vat.map((v) => `${label("vat_rate", v.vat_rate)}: ${money(v.vat)}`).join(", ") : label("vat_rate", "none"),
          ]
            .filter(Boolean)
            .join(" · "),
        ),
        el("div", { class: "small" }, (r.items || []).map((l) => `${l.name} ×${l.quantity}`).join(", ")),
      );
    }),
  );
}

// --- submit --------------------------------------------------------------------------------------

function body() {
  const out = {
    phone: state.phone || $("phone").value.trim(),
    name: $("client-name").value.trim(),
    kind: state.kind,
    lines: apiLines(),
    payment: { kind: state.payment },
    comment: $("comment").value.trim(),
  };
  if (state.client?.id) out.client_id = state.client.id;
  if (branchChosenByOperator() && state.pickupBranchId) out.branch_id = state.pickupBranchId;
  if (state.kind === "delivery") out.address = apiAddress({ full: true });
  if (state.payment === "cash" && state.changeFrom.trim()) {
    const note = toMinor(state.changeFrom);
    out.payment.change_from = Number.isNaN(note) ? state.changeFrom.trim() : minorToDecimal(note);
  }
  if (state.promisedAt) out.promised_at = state.promisedAt;
  return out;
}

function precheck(b) {
  const errors = [];
  if (!b.phone) errors.push({ field: "phone", message: t("phone_required") });
  if (!b.lines.length) errors.push({ field: "lines", message: t("cart_empty") });
  if (b.kind === "delivery" && (!b.address || (!b.address.id && !b.address.text)))
    errors.push({ field: "address", message: t("address_required") });
  if (branchChosenByOperator() && !b.branch_id) errors.push({ field: "branch_id", message: t("pickup_branch_required") });
  return errors;
}

/** What changed of the order being changed: the whole cart, payment, comment and reason, the
 * address when the operator chose another one, the time when they picked one. */
function editBody() {
  const b = body();
  const out = { version: state.editing.version, lines: b.lines, payment: b.payment, comment: b.comment, reason: $("edit-reason").value.trim() };
  if (b.address && (b.address.id || b.address.text !== state.editing.address)) out.address = b.address;
  if (b.promised_at) out.promised_at = b.promised_at;
  return out;
}

/** Save the change of the order being changed (Ctrl+Enter in the change mode). */
async function submitEdit() {
  clearErrors("submit");
  const b = editBody();
  if (!b.lines.length) {
    showErrors([{ field: "lines", message: t("cart_empty") }], "submit");
    return;
  }
  if (!checkChange()) return;
  state.submitting = true;
  $("submit").disabled = true;
  const res = await call("PATCH", url("edit_order", { id: state.editing.id }), b);
  state.submitting = false;
  $("submit").disabled = false;
  if (res.ok) {
    const order = res.data;
    stopEdit();
    announce(t("edit_saved", { number: order.number, total: money(order.total) }));
    placed(order, true);
    return;
  }
  if (res.status === 409 && res.data?.changed_fields) {
    const { id, number } = state.editing;
    const fields = res.data.changed_fields.map((f) => t(`edit_field_${f}`)).join(", ");
    await startEdit(id, number);
    announce(t("edit_stale", { number, fields }), true);
    return;
  }
  announce(t("fix_errors"), true);
  const errors = res.data?.errors?.length ? res.data.errors : [{ field: "*", message: problemText(res) }];
  showErrors(errors, "submit");
}

/** Place the order (Ctrl+Enter), or save the change of the order being changed. */
export async function submit() {
  if (state.submitting || state.placed) return;
  if (state.editing) {
    await submitEdit();
    return;
  }
  clearErrors("submit");
  const b = body();
  const local = precheck(b);
  if (local.length || !checkChange()) {
    showErrors(local, "submit");
    return;
  }
  const json = JSON.stringify(b);
  if (!attempt || attempt.settled || attempt.json !== json) attempt = { json, key: randomKey(), settled: false };
  state.submitting = true;
  const button = $("submit");
  button.disabled = true;
  button.classList.add("busy");
  announce(t("submitting"));
  const res = await call("POST", url("take_order"), b, { idempotencyKey: attempt.key });
  state.submitting = false;
  button.disabled = false;
  button.classList.remove("busy");
  if (res.status > 0) attempt.settled = true;
  if (res.ok) {
    announce("");
    placed(res.data);
    return;
  }
  announce(t("fix_errors"), true);
  const errors = res.data?.errors?.length ? res.data.errors : [{ field: "*", message: problemText(res) }];
  showErrors(errors, "submit");
}

function placed(order, edited = false) {
  state.placed = order;
  const heading = $("placed-label");
  if (!heading.dataset.placed) heading.dataset.placed = heading.textContent;
  heading.textContent = edited ? heading.dataset.edited : heading.dataset.placed;
  $("placed-number").textContent = order.number;
  const parts = [money(order.total)];
  if (order.promised_at) {
    const today = day(new Date().toISOString()) === day(order.promised_at);
    parts.push(today ? clock(order.promised_at) : when(order.promised_at));
  }
  if (order.address_text) parts.push(order.address_text);
  $("placed-details").textContent = parts.join(" · ");
  $("placed").hidden = false;
  $("next-call").focus();
  emit("placed", order);
}

/** A repeated order is paid as last time (kind, and the note for change if cash); the operator may change it. */
function onRepeat({ answer }) {
  if (!answer?.payment_kind) return;
  setPayment(answer.payment_kind);
  state.changeFrom = answer.payment_kind === "cash" && answer.change_from != null ? String(answer.change_from) : "";
  $("change-from").value = state.changeFrom;
  checkChange();
}

/** Forget payment, comment and the placed order for the next call. */
export function resetCheckout() {
  attempt = null;
  stopEdit();
  state.placed = null;
  state.changeFrom = "";
  state.comment = "";
  state.receipts = null;
  $("change-from").value = "";
  $("comment").value = "";
  $("placed").hidden = true;
  $("receipts").hidden = true;
  setPayment("cash");
  clearErrors();
  renderTotal();
}

/** Wire the payment, comment and submit parts; ``say`` shows short notices. */
export function initCheckout(say) {
  announce = say;
  for (const r of document.querySelectorAll('input[name="payment"]')) r.addEventListener("change", () => setPayment(r.value));
  $("change-from").addEventListener("input", (ev) => {
    state.changeFrom = ev.target.value;
    checkChange();
  });
  $("comment").addEventListener("input", (ev) => {
    state.comment = ev.target.value;
  });
  $("submit").addEventListener("click", submit);
  on("cart", () => {
    renderTotal();
    requestReceipts();
  });
  on("quote", () => {
    renderTotal();
    requestReceipts();
  });
  on("repeat", onRepeat);
  setPayment("cash");
  renderTotal();
}

/** Put the keyboard on the payment choice. */
export function focusPayment() {
  const checked = document.querySelector('input[name="payment"]:checked');
  if (checked) checked.focus();
}
