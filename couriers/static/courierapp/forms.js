// The courier app's two forms at the door: delivered (cash, photo, signature) and not delivered
// (a reason). They only build the request body; the app queues it in the outbox.

import { config, el, minorToDecimal, money, t, toMinor } from "frontoffice/shared.js";
import { moneyField, payment } from "./parts.js";
import { photoProof, signaturePad } from "./proofs.js";

/**
 * The delivery form of ``order``: cash taken and change given (cash orders), a photo, a signature, a
 * comment. ``done(body)`` gets the body of POST /orders/{id}/deliver; ``back()`` leaves the form;
 * ``here()`` is the last position ({lat, lon}) or null.
 */
export function deliverForm(order, { done, back, here }) {
  const cash = order.payment_kind === "cash";
  const taken = order.change_from ?? order.total;
  const given = order.change_due ?? "0.00";
  const counted = el("p", { class: "counted", id: "cash-counted" });
  const photoNote = el("p", { class: "note", id: "photo-note" });
  const canvas = el("canvas", { width: 600, height: 240, class: "signature", id: "signature" });
  const pad = signaturePad(canvas);
  let photo = null;

  const recount = (form) => {
    const net = toMinor(form.elements.cash_taken.value) - toMinor(form.elements.change_given.value);
    counted.textContent = Number.isNaN(net) ? t("bad_amount") : t("cash_counted", { amount: money(net, { minor: true }) });
  };
  const onPhoto = async (ev) => {
    const file = ev.target.files[0];
    photo = null;
    if (!file) return (photoNote.textContent = "");
    try {
      photo = await photoProof(file, config().max_proof_bytes);
      photoNote.textContent = t("photo_ready", { kb: Math.ceil(photo.bytes / 1024) });
      photoNote.className = "note ok";
    } catch (err) {
      photoNote.textContent = err.message === "too big" ? t("photo_too_big") : t("not_a_picture");
      photoNote.className = "note error";
      ev.target.value = "";
    }
  };
  const submit = async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const body = { comment: form.elements.comment.value.trim(), proofs: [] };
    if (cash) {
      const net = toMinor(form.elements.cash_taken.value) - toMinor(form.elements.change_given.value);
      if (Number.isNaN(net) || net < 0) {
        counted.textContent = t("bad_amount");
        counted.className = "counted error";
        return;
      }
      body.cash_collected = minorToDecimal(net);
    }
    if (photo) body.proofs.push({ kind: photo.kind, content_type: photo.content_type, data_base64: photo.data_base64 });
    if (!pad.isEmpty()) body.proofs.push(await pad.proof());
    Object.assign(body, here() || {});
    done(body);
  };

  const form = el(
    "form",
    { class: "form", id: "deliver-form", onsubmit: submit, oninput: (ev) => cash && recount(ev.currentTarget) },
    el("h2", {}, `${t("deliver")}: ${order.number}`),
    payment(order),
    cash ? [moneyField("cash_taken", t("cash_taken"), taken), moneyField("change_given", t("change_given"), given), counted] : null,
    el(
      "label",
      { class: "field" },
      el("span", {}, t("photo")),
      el("input", { type: "file", name: "photo", accept: "image/*", capture: "environment", onchange: onPhoto }),
    ),
    photoNote,
    el("div", { class: "field" }, el("span", {}, t("signature")), canvas),
    el("button", { type: "button", class: "small", onclick: () => pad.clear() }, t("clear")),
    el("label", { class: "field" }, el("span", {}, t("comment")), el("input", { name: "comment", maxlength: 500 })),
    el("button", { type: "submit", class: "big deliver" }, t("confirm_delivery")),
    el("button", { type: "button", class: "big secondary", onclick: back }, t("back")),
  );
  if (cash) recount(form);
  return form;
}

/** The "not delivered" form: a reason of the fail_reason labels and a comment (``other`` needs one). */
export function failForm(order, { done, back, here }) {
  const error = el("p", { class: "error", id: "fail-error" });
  const submit = (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const reason = form.elements.reason_code.value;
    const comment = form.elements.comment.value.trim();
    if (!reason || (reason === "other" && !comment)) {
      error.textContent = reason ? t("comment_needed") : t("reason");
      return;
    }
    done({ reason_code: reason, comment, ...(here() || {}) });
  };
  const reasons = Object.entries(config().labels.fail_reason || {});
  return el(
    "form",
    { class: "form", id: "fail-form", onsubmit: submit },
    el("h2", {}, `${t("fail")}: ${order.number}`),
    el(
      "fieldset",
      { class: "reasons" },
      el("legend", {}, t("reason")),
      reasons.map(([code, text]) => el("label", { class: "choice" }, el("input", { type: "radio", name: "reason_code", value: code }), el("span", {}, text))),
    ),
    el("label", { class: "field" }, el("span", {}, t("comment")), el("input", { name: "comment", maxlength: 500 })),
    error,
    el("button", { type: "submit", class: "big fail" }, t("confirm_fail")),
    el("button", { type: "button", class: "big secondary", onclick: back }, t("back")),
  );
}
