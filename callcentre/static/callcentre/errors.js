// Inline errors: each message goes next to the field it is about ([data-error-for] holders).

import { config, money, t, when } from "frontoffice/shared.js";

const shown = new Map(); // holder element → {source: [messages]}
let labeler = null;

/** Let a part of the page name what a field path means (e.g. "lines.2" → the dish of that line). */
export function setFieldLabeler(fn) {
  labeler = fn;
}

function holders() {
  const map = new Map();
  for (const node of document.querySelectorAll("[data-error-for]")) {
    for (const key of node.dataset.errorFor.split(/\s+/)) if (key) map.set(key, node);
  }
  return map;
}

/** The holder of a field path like "address.text" or "lines.0.quantity": the most specific match. */
function holderOf(field, map) {
  let parts = String(field || "").split(".").filter(Boolean);
  if (parts[0] === "body") parts = parts.slice(1);
  while (parts.length) {
    const node = map.get(parts.join("."));
    if (node && !node.closest("[hidden]")) return node; // a hidden holder would hide the message
    parts = parts.slice(0, -1);
  }
  return map.get("*");
}

function render(node) {
  const bySource = shown.get(node) || {};
  const messages = [...new Set(Object.values(bySource).flat())];
  node.textContent = messages.join(" ");
  node.classList.toggle("on", messages.length > 0);
  const problemOnly = messages.length > 0 && Object.keys(bySource).every((s) => s === "quote" || !bySource[s].length);
  node.classList.toggle("problem", problemOnly);
}

const REQUIRED = { address: "address_required", "address.text": "address_required", branch_id: "pickup_branch_required", phone: "phone_required" };

/** The message of a problem in the page's language when its code is known, else the server's text. */
export function localize(e) {
  const code = e.code || e.type;
  const strings = config().strings;
  if (code === "required" && REQUIRED[e.field]) return t(REQUIRED[e.field]);
  const key = `problem_${code}`;
  if (!code || !(key in strings)) return e.message;
  const params = { ...(e.params || {}) };
  for (const name of ["min_order", "missing"]) if (params[name] != null) params[name] = money(params[name]);
  if (params.next_slot) params.next_slot = when(params.next_slot);
  const text = t(key, params);
  return /\{\w+\}/.test(text) ? e.message : text;
}

/** Show ``errors`` ([{field, message}]) from ``source`` ("submit", "quote", "client"…), replacing that source's previous ones. */
export function showErrors(errors, source) {
  clearErrors(source);
  const map = holders();
  for (const e of errors || []) {
    const node = holderOf(e.field, map);
    if (!node) continue;
    const entry = shown.get(node) || {};
    const label = labeler ? labeler(String(e.field || "")) : null;
    const stray = node === map.get("*") && e.field && e.field !== "*" && e.field !== "body";
    const text = localize(e);
    const message = label
      ? t("field_unknown", { field: label, message: text })
      : stray
        ? t("field_unknown", { field: e.field, message: text })
        : text;
    (entry[source] ||= []).push(message);
    shown.set(node, entry);
    render(node);
  }
}

/** Remove the messages of ``source`` (or of every source when omitted). */
export function clearErrors(source = null) {
  for (const [node, entry] of shown) {
    if (source) delete entry[source];
    else for (const k of Object.keys(entry)) delete entry[k];
    render(node);
  }
}

/** Drop holders that left the DOM (cart rows are re-rendered). */
export function forgetDetached() {
  for (const node of [...shown.keys()]) if (!node.isConnected) shown.delete(node);
}
