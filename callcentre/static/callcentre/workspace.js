// The operator workspace: one window for a whole call. This module wires the parts and
// the keyboard: Alt+1…6 jump between parts, Alt+R repeats, Alt+K delivery/pickup,
// Alt+M map, Alt+T delivery time, E in the history changes an order, Alt+I a ticket (about the order selected in the history, else the
// caller), Ctrl+Enter places the order (or saves the change), Esc closes a window or starts the next call, F1 or ? shows
// the shortcuts.

import { call, config, money, t, url } from "frontoffice/shared.js";
import { clearCart, focusCart, initCart } from "./cart.js";
import { focusPayment, initCheckout, resetCheckout, submit } from "./checkout.js";
import { focusAddress, initDelivery, pinOnMap, resetDelivery, setKind } from "./delivery.js";
import { initEditing } from "./editing.js";
import { focusHistory, focusPhone, initDossier, lookup, repeat, resetDossier, selectedOrder } from "./dossier.js";
import { initMap } from "./mapview.js";
import { focusMenu, initMenu, loadMenu, resetMenu } from "./menu.js";
import { initPhone } from "./phone.js";
import { isDirty, on, state } from "./state.js";
import { initTickets, openTicket } from "./tickets.js";

const $ = (id) => document.getElementById(id);
let statusTimer = null;

/** Show a short notice in the tool bar (``warn`` paints it as a problem). */
function say(text, warn = false) {
  const line = $("status-line");
  line.textContent = text || "";
  line.classList.toggle("warn", Boolean(warn));
  clearTimeout(statusTimer);
  if (text) statusTimer = setTimeout(() => (line.textContent = ""), warn ? 9000 : 5000);
}

/** The operator's bonus in the tool bar, when a package offers it (``bonuses`` in the API table). */
async function refreshBonus() {
  const box = $("bonus");
  if (!config().api.bonuses) {
    box.hidden = true;
    return;
  }
  const res = await call("GET", url("bonuses"));
  if (!res.ok || !res.data) {
    box.hidden = true;
    return;
  }
  const d = res.data;
  const parts = [];
  if (d.today != null) parts.push(t("bonus_today", { amount: money(d.today) }));
  if (d.month != null) parts.push(t("bonus_month", { amount: money(d.month) }));
  box.textContent = parts.join(" · ");
  box.hidden = !parts.length;
}

function toggleHelp(force = null) {
  const help = $("help");
  help.hidden = force === null ? !help.hidden : !force;
  $("help-toggle").setAttribute("aria-expanded", String(!help.hidden));
}

/** Start over for the next call. */
function nextCall() {
  resetCheckout();
  resetDelivery();
  resetDossier();
  clearCart();
  resetMenu();
  say("");
  focusPhone();
}

async function confirmClear() {
  const dialog = $("confirm-dialog");
  $("confirm-h").textContent = t("clear_confirm");
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-yes").focus();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  return dialog.returnValue === "yes";
}

async function escape() {
  if (!$("help").hidden) {
    toggleHelp(false);
    return;
  }
  if (state.placed || !isDirty()) {
    nextCall();
    return;
  }
  if (await confirmClear()) nextCall();
}

function isTyping(target) {
  return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

function onKey(ev) {
  if (document.querySelector("dialog[open]")) return; // dialogs handle their own keys
  const key = ev.key;
  if (key === "F1" || (key === "?" && !isTyping(ev.target))) {
    toggleHelp();
  } else if (key === "Escape") {
    escape();
  } else if (key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
    if (state.placed) nextCall();
    else submit();
  } else if (ev.altKey && !ev.ctrlKey && ev.code === "KeyI") {
    openTicket(selectedOrder()); // also after an order is placed: the caller is still on the line
  } else if (state.placed) {
    return;
  } else if (key === "/" && !isTyping(ev.target)) {
    focusMenu();
  } else if (ev.altKey && !ev.ctrlKey) {
    const action = {
      1: focusPhone,
      2: focusMenu,
      3: focusCart,
      4: focusAddress,
      5: focusPayment,
      6: () => $("comment").focus(),
      r: () => repeat(),
      h: focusHistory,
      k: () => setKind(state.kind === "delivery" ? "pickup" : "delivery"),
      m: pinOnMap,
      t: () => $("promised-at").focus(),
    }[ev.code.replace(/^(Digit|Numpad|Key)/, "").toLowerCase()];
    if (!action) return;
    action();
  } else {
    return;
  }
  ev.preventDefault();
}

function init() {
  initCart(say);
  initMenu(say);
  initMap();
  initDelivery();
  initCheckout(say);
  initDossier(say);
  initTickets(say, lookup);
  initEditing(say, nextCall);
  initPhone(say, nextCall);
  loadMenu(null);
  refreshBonus();
  on("placed", () => refreshBonus());
  document.addEventListener("keydown", onKey);
  $("help-toggle").addEventListener("click", () => toggleHelp());
  $("next-call").addEventListener("click", nextCall);
  if (!$("phone").value) focusPhone();
}

init();
