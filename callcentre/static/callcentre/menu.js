// The menu: search by name or SKU (with "2*" for a quantity), groups, the stop-list greyed
// out, and the options chooser for dishes with modifiers.

import { call, el, fill, money, t, toMinor, url } from "frontoffice/shared.js";
import { addItem } from "./cart.js";
import { state } from "./state.js";

const SHOWN = 150;
let items = []; // normalized menu items
let groups = [];
let group = null; // selected group id (null: all)
let matches = [];
let highlight = 0;
let search;
let list;
let announce = () => {};
let loadedFor = undefined;

function normalize(item) {
  return {
    ...item,
    price_minor: toMinor(item.price),
    stopped: Boolean(item.stopped),
    modifier_groups: (item.modifier_groups || []).map((g) => ({
      ...g,
      min: Number(g.min ?? g.min_choices ?? 0),
      max: Number(g.max ?? g.max_choices ?? 1),
      options: (g.options || []).map((o) => ({ ...o, price_minor: toMinor(o.price_delta ?? "0") || 0 })),
    })),
  };
}

/** Load the menu (with the stop-list of ``branchId`` when known). */
export async function loadMenu(branchId = null) {
  if (loadedFor === branchId && items.length) return;
  const res = await call("GET", url("menu", {}, { branch_id: branchId }));
  if (!res.ok) {
    fill(list, el("li", { class: "cc-empty error" }, t("menu_unavailable"), " ", res.data?.detail || ""));
    return;
  }
  loadedFor = branchId;
  state.menuBranchId = branchId;
  const data = res.data || {};
  groups = data.groups || [];
  items = (data.items || []).map(normalize);
  renderGroups();
  filter();
}

/** The menu item with this id or SKU, if the menu has it. */
export function findItem({ item_id = null, sku = null }) {
  return items.find((i) => (item_id != null && i.id === item_id) || (sku && i.sku === sku)) || null;
}

function parseQuery(raw) {
  const m = /^\s*(\d{1,3})\s*[*xх×]\s*(.*)$/i.exec(raw);
  if (m) return { quantity: Math.max(1, Number(m[1])), q: m[2].trim().toLowerCase() };
  return { quantity: 1, q: raw.trim().toLowerCase() };
}

function rank(item, q) {
  if (!q) return 3;
  const sku = (item.sku || "").toLowerCase();
  const name = (item.name || "").toLowerCase().replace(/ё/g, "е");
  const qq = q.replace(/ё/g, "е");
  if (sku === qq) return 0;
  if (sku.startsWith(qq)) return 1;
  if (name.startsWith(qq) || name.split(/[\s"«(,]+/).some((w) => w.startsWith(qq))) return 2;
  if (name.includes(qq) || sku.includes(qq)) return 3;
  return -1;
}

/** The chosen group and every group under it. */
function groupAndBelow(id) {
  const out = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const g of groups) {
      if (g.parent_id != null && out.has(g.parent_id) && !out.has(g.id)) {
        out.add(g.id);
        grew = true;
      }
    }
  }
  return out;
}

function filter() {
  const { q } = parseQuery(search.value);
  const scored = [];
  const inGroup = group === null ? null : groupAndBelow(group);
  for (const item of items) {
    if (inGroup && !q && !inGroup.has(item.group_id)) continue;
    const r = rank(item, q);
    if (r >= 0) scored.push([r, item]);
  }
  scored.sort((a, b) => a[0] - b[0] || Number(a[1].stopped) - Number(b[1].stopped));
  matches = scored.map((s) => s[1]);
  highlight = Math.max(0, matches.findIndex((i) => !i.stopped));
  renderItems();
}

function renderGroups() {
  const box = document.getElementById("menu-groups");
  const chip = (id, name) =>
    el(
      "button",
      {
        type: "button",
        role: "tab",
        class: group === id ? "on" : "",
        "aria-selected": group === id ? "true" : "false",
        tabindex: -1,
        onclick: () => {
          group = id;
          renderGroups();
          filter();
          search.focus();
        },
      },
      name,
    );
  box.hidden = !groups.length;
  fill(box, chip(null, t("all_groups")), ...groups.map((g) => chip(g.id, g.name)));
}

function renderItems() {
  if (!matches.length) {
    fill(list, el("li", { class: "cc-empty" }, items.length ? t("menu_empty", { q: search.value.trim() }) : ""));
    return;
  }
  fill(list,
    ...matches.slice(0, SHOWN).map((item, i) =>
      el(
        "li",
        {
          role: "option",
          id: `menu-item-${item.id}`,
          class: [i === highlight ? "hl" : "", item.stopped ? "stopped" : ""].join(" "),
          "aria-selected": i === highlight ? "true" : "false",
          "aria-disabled": item.stopped ? "true" : null,
          onmousedown: (ev) => ev.preventDefault(),
          onclick: () => {
            highlight = i;
            choose(item, 1);
          },
        },
        el("span", { class: "cc-sku" }, item.sku),
        el("span", { class: "cc-item-name" }, item.name, item.modifier_groups.length ? el("span", { class: "cc-has-mods" }, " ⋯") : null),
        item.stopped ? el("span", { class: "badge stop" }, t("stopped")) : null,
        el("span", { class: "num" }, money(item.price_minor, { minor: true })),
      ),
    ),
  );
  const node = list.children[highlight];
  if (node) {
    node.scrollIntoView({ block: "nearest" });
    search.setAttribute("aria-activedescendant", node.id);
  }
}

function choose(item, quantity) {
  if (item.stopped) {
    announce(t("stopped_refused", { name: item.name }), true);
    return;
  }
  if (item.modifier_groups.length) {
    openModifiers(item, quantity);
    return;
  }
  addItem(item, [], quantity);
  search.select();
}

function onKey(ev) {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const n = Math.min(matches.length, SHOWN);
  if (ev.key === "ArrowDown" && n) {
    highlight = (highlight + 1) % n;
    renderItems();
  } else if (ev.key === "ArrowUp" && n) {
    highlight = (highlight - 1 + n) % n;
    renderItems();
  } else if (ev.key === "PageDown" || ev.key === "PageUp") {
    const ids = [null, ...groups.map((g) => g.id)];
    const at = ids.indexOf(group);
    group = ids[(at + (ev.key === "PageDown" ? 1 : -1) + ids.length) % ids.length];
    renderGroups();
    filter();
  } else if (ev.key === "Enter") {
    const item = matches[highlight];
    if (item) choose(item, parseQuery(search.value).quantity);
  } else if (ev.key === "Escape" && search.value) {
    search.value = "";
    filter();
    ev.stopPropagation();
  } else {
    return;
  }
  ev.preventDefault();
}

// --- options (modifiers) ----------------------------------------------------------------------

let pending = null;

function openModifiers(item, quantity) {
  const dialog = document.getElementById("modifiers-dialog");
  const box = document.getElementById("modifiers-groups");
  document.getElementById("modifiers-h").textContent = t("modifiers_title", { name: item.name });
  document.getElementById("modifiers-error").textContent = "";
  let number = 0;
  fill(box,
    ...item.modifier_groups.map((g) => {
      const single = g.max === 1;
      const rule = [
        g.min === 0 ? t("modifiers_free") : g.min === g.max ? t("modifiers_exactly", { n: g.min }) : t("modifiers_min", { n: g.min }),
        g.max > 1 && g.max !== g.min ? t("modifiers_max", { n: g.max }) : null,
      ]
        .filter(Boolean)
        .join(", ");
      return el(
        "fieldset",
        { class: "cc-modgroup", dataset: { group: g.id } },
        el("legend", {}, g.name, " ", el("span", { class: "muted small" }, `(${rule})`)),
        ...g.options.map((o, i) => {
          number += 1;
          return el(
            "label",
            { class: "check" },
            el("input", {
              type: single ? "radio" : "checkbox",
              name: `g${g.id}`,
              value: o.id,
              checked: single && g.min >= 1 && i === 0,
              dataset: { key: number <= 9 ? String(number) : "" },
            }),
            number <= 9 ? el("kbd", {}, number) : null,
            " ",
            o.name,
            o.price_minor
              ? el("span", { class: "muted" }, ` ${o.price_minor > 0 ? "+" : "−"}${money(Math.abs(o.price_minor), { minor: true })}`)
              : null,
          );
        }),
      );
    }),
  );
  pending = { item, quantity };
  dialog.showModal();
  const first = box.querySelector("input");
  if (first) first.focus();
}

function confirmModifiers(ev) {
  ev.preventDefault();
  const { item, quantity } = pending;
  const chosen = [];
  for (const g of item.modifier_groups) {
    const picked = g.options.filter((o) =>
      document.querySelector(`#modifiers-groups input[name="g${g.id}"][value="${o.id}"]`)?.checked,
    );
    if (picked.length < g.min) {
      document.getElementById("modifiers-error").textContent = `${g.name}: ${t("modifiers_min", { n: g.min })}`;
      return;
    }
    if (picked.length > g.max) {
      document.getElementById("modifiers-error").textContent = `${g.name}: ${t("modifiers_max", { n: g.max })}`;
      return;
    }
    chosen.push(...picked.map((o) => ({ id: o.id, name: o.name, price_minor: o.price_minor })));
  }
  document.getElementById("modifiers-dialog").close();
  addItem(item, chosen, quantity);
  pending = null;
  search.focus();
  search.select();
}

function onModifierKey(ev) {
  if (/^[1-9]$/.test(ev.key) && !ev.altKey && !ev.ctrlKey) {
    const input = document.querySelector(`#modifiers-groups input[data-key="${ev.key}"]`);
    if (input) {
      input.checked = input.type === "radio" ? true : !input.checked;
      input.focus();
      ev.preventDefault();
    }
  } else if (ev.key === "Enter" && !ev.ctrlKey) {
    confirmModifiers(ev);
  }
}

/** Wire the menu; ``say`` shows short notices. */
export function initMenu(say) {
  announce = say;
  search = document.getElementById("menu-search");
  list = document.getElementById("menu-items");
  search.addEventListener("input", filter);
  search.addEventListener("keydown", onKey);
  const dialog = document.getElementById("modifiers-dialog");
  document.getElementById("modifiers-form").addEventListener("submit", confirmModifiers);
  document.getElementById("modifiers-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", onModifierKey);
  // The close event comes a moment after close(): by then the operator may have moved on (Alt+3 to
  // the cart), and the keys they press next must not land in the search.
  dialog.addEventListener("close", () => {
    const at = document.activeElement;
    if (!at || at === document.body || dialog.contains(at)) search.focus();
  });
}

/** Put the keyboard on the menu search. */
export function focusMenu() {
  search.focus();
  search.select();
}

/** Forget the search for the next call. */
export function resetMenu() {
  search.value = "";
  group = null;
  renderGroups();
  filter();
}

/** The item names of some cart lines, for messages. */
export function itemName(ref) {
  const item = findItem(ref);
  return item ? item.name : ref.sku || `#${ref.item_id}`;
}
