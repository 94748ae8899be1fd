// Changing a taken order in the workspace: the order is opened in the same cart, address, time,
// payment and comment parts (E in the order history, "Change" on the board or the order's page,
// /callcentre?edit=<id>); Ctrl+Enter saves it against the version it was opened at.

import { call, config, t, toMinor, url } from "frontoffice/shared.js";
import { focusCart, replaceCart } from "./cart.js";
import { chooseAddress, setKind } from "./delivery.js";
import { editable, lookup } from "./dossier.js";
import { findItem, loadMenu } from "./menu.js";
import { emit, on, state } from "./state.js";

const $ = (id) => document.getElementById(id);
let announce = () => {};
let reset = () => {};

/** The order's lines as cart lines, at the prices the order was taken at. */
function cartLines(order) {
  return order.lines.map((line) => {
    const known = findItem({ item_id: line.item_id, sku: line.sku });
    const modifiers = (line.modifiers || []).map((m) => ({ id: m.id, name: m.name, price_minor: toMinor(m.price_delta) }));
    const options = modifiers.reduce((sum, m) => sum + m.price_minor, 0);
    const item = { ...(known || { id: line.item_id, sku: line.sku, name: line.name, modifier_groups: [] }), price_minor: toMinor(line.unit_price) - options };
    return { item, modifiers, quantity: line.quantity, comment: line.comment };
  });
}

/** The address the order goes to, as a new address already located (the operator may retype it). */
function showAddress(order) {
  chooseAddress("new");
  $("addr-text").value = order.address_text;
  state.newAddress = { text: order.address_text, lat: order.lat, lon: order.lon, source: "order" };
  chooseAddress("new");
}

/** Open order ``id`` for a change: the caller, the cart, the address, payment and comment as they are. */
export async function startEdit(id, number = "") {
  announce(t("edit_loading", { number: number || `#${id}` }));
  const res = await call("GET", url("order", { id }));
  if (!res.ok || !editable(res.data)) {
    announce(t("edit_failed"), true);
    return;
  }
  const order = res.data;
  reset();
  $("phone").value = order.client_phone;
  await lookup();
  await loadMenu(order.branch_id);
  if (order.kind === "pickup") setKind("pickup", order.branch_id);
  replaceCart(cartLines(order));
  emit("repeat", { order, answer: { payment_kind: order.payment_kind, change_from: order.change_from } });
  if (order.kind === "delivery") showAddress(order);
  $("comment").value = order.comment;
  state.comment = order.comment;
  state.editing = { id: order.id, number: order.number, version: order.version, address: order.address_text };
  $("edit-title").textContent = t("editing", { number: order.number });
  $("edit-reason").value = "";
  $("edit-banner").hidden = false;
  $("submit").firstChild.textContent = `${t("edit_save")} `;
  announce("");
  focusCart();
}

/** Leave the change mode (next call, or the change is saved). */
export function stopEdit() {
  state.editing = null;
  $("edit-banner").hidden = true;
  $("submit").firstChild.textContent = `${$("submit").dataset.label} `;
}

/** Wire the change mode; ``say`` shows short notices, ``startOver`` clears the workspace. */
export function initEditing(say, startOver) {
  announce = say;
  reset = startOver;
  $("submit").dataset.label = $("submit").firstChild.textContent.trim();
  on("edit", (order) => startEdit(order.id, order.number));
  const id = config().edit_order_id;
  if (id) startEdit(id);
}
