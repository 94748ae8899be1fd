// The cart: lines of dishes with their options, edited from the keyboard
// (↑↓ choose a line, + and − change the quantity, Delete removes it).

import { el, fill, money, t } from "frontoffice/shared.js";
import { setFieldLabeler } from "./errors.js";
import { emit, state } from "./state.js";

const MAX_QUANTITY = 999;
let selected = 0;
let body;
let announce = () => {};

/** The cart line key: the same dish with the same options is one line. */
function keyOf(itemId, modifiers) {
  return `${itemId}|${modifiers.map((m) => m.id).sort((a, b) => a - b).join(",")}`;
}

/** Price of one unit of a line in minor units (dish plus its options). */
export function unitMinor(line) {
  return line.unit_minor;
}

/** The cart's items total in minor units. */
export function itemsMinor() {
  return state.cart.reduce((sum, l) => sum + l.unit_minor * l.quantity, 0);
}

/** Add ``quantity`` of a menu item with chosen options (a list of {id, name, price_minor}) and a
 * note for the kitchen (kept from an order being changed). */
export function addItem(item, modifiers = [], quantity = 1, comment = "") {
  const key = keyOf(item.id, modifiers);
  const existing = state.cart.findIndex((l) => l.key === key);
  if (existing >= 0) {
    const line = state.cart[existing];
    line.quantity = Math.min(MAX_QUANTITY, line.quantity + quantity);
    selected = existing;
  } else {
    state.cart.push({
      key,
      item_id: item.id,
      sku: item.sku,
      name: item.name,
      unit_minor: item.price_minor + modifiers.reduce((s, m) => s + m.price_minor, 0),
      quantity: Math.min(MAX_QUANTITY, quantity),
      modifiers,
      comment,
    });
    selected = state.cart.length - 1;
  }
  changed();
}

/** Replace the cart (repeat of a previous order, or the order being changed). */
export function replaceCart(lines) {
  state.cart = [];
  for (const l of lines) addItem(l.item, l.modifiers, l.quantity, l.comment || "");
  selected = 0;
  changed();
}

function setQuantity(index, quantity) {
  const line = state.cart[index];
  if (!line) return;
  if (quantity <= 0) {
    removeLine(index);
    return;
  }
  line.quantity = Math.min(MAX_QUANTITY, quantity);
  changed();
}

function removeLine(index) {
  const [line] = state.cart.splice(index, 1);
  if (!line) return;
  selected = Math.max(0, Math.min(selected, state.cart.length - 1));
  announce(t("removed", { name: line.name }));
  changed();
}

/** Empty the cart. */
export function clearCart() {
  state.cart = [];
  selected = 0;
  changed();
}

function changed() {
  render();
  emit("cart");
}

/** The cart lines as the API wants them. */
export function apiLines() {
  return state.cart.map((l) => ({
    item_id: l.item_id,
    quantity: l.quantity,
    modifiers: l.modifiers.map((m) => m.id),
    ...(l.comment ? { comment: l.comment } : {}),
  }));
}

function render() {
  fill(body,
    ...state.cart.map((line, i) =>
      el(
        "tr",
        {
          class: i === selected ? "sel" : "",
          dataset: { index: i },
          onclick: () => {
            selected = i;
            render();
          },
        },
        el(
          "td",
          { class: "cc-line-name" },
          line.name,
          line.modifiers.length
            ? el("div", { class: "small muted" }, line.modifiers.map((m) => m.name).join(", "))
            : null,
        ),
        el(
          "td",
          { class: "cc-qty" },
          el("button", { type: "button", tabindex: -1, "aria-label": "−", onclick: () => setQuantity(i, line.quantity - 1) }, "−"),
          el("span", { class: "cc-qty-n" }, line.quantity),
          el("button", { type: "button", tabindex: -1, "aria-label": "+", onclick: () => setQuantity(i, line.quantity + 1) }, "+"),
        ),
        el("td", { class: "num" }, money(line.unit_minor * line.quantity, { minor: true })),
        el(
          "td",
          {},
          el("button", { type: "button", class: "cc-x", tabindex: -1, title: t("remove"), onclick: () => removeLine(i) }, "×"),
        ),
      ),
    ),
  );
  document.getElementById("cart-empty").textContent = state.cart.length ? "" : t("cart_empty");
  document.getElementById("cart-total").textContent = money(itemsMinor(), { minor: true });
}

function onKey(ev) {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const n = state.cart.length;
  if (!n) return;
  const line = state.cart[selected];
  switch (ev.key) {
    case "ArrowDown":
      selected = (selected + 1) % n;
      render();
      break;
    case "ArrowUp":
      selected = (selected - 1 + n) % n;
      render();
      break;
    case "+":
    case "=":
    case "ArrowRight":
      setQuantity(selected, line.quantity + 1);
      break;
    case "-":
    case "_":
    case "ArrowLeft":
      setQuantity(selected, line.quantity - 1);
      break;
    case "Delete":
    case "Backspace":
      removeLine(selected);
      break;
    default:
      return;
  }
  ev.preventDefault();
}

/** Wire the cart table; ``say`` shows short notices in the status line. */
export function initCart(say) {
  announce = say;
  body = document.getElementById("cart-lines");
  body.addEventListener("keydown", onKey);
  setFieldLabeler((field) => {
    const m = /^(?:body\.)?lines\.(\d+)/.exec(field);
    if (!m) return null;
    const line = state.cart[Number(m[1])];
    return line ? line.name : null;
  });
  render();
}

/** Put the keyboard on the cart. */
export function focusCart() {
  body.focus();
}
