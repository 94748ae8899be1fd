// The one state of the operator workspace, and a tiny change notifier between its parts.

/** Everything about the call being taken. */
export const state = {
  phone: "", // what the operator typed
  lookup: null, // the dossier answer of /callcentre/lookup
  client: null, // lookup.client, or null for a new number
  name: "",
  cart: [], // {key, item_id, sku, name, unit_minor, quantity, modifiers: [{id, name, price_delta}]}
  kind: "delivery",
  pickupBranchId: null,
  address: { mode: "none", id: null }, // mode: none | known | new
  newAddress: { text: "", lat: null, lon: null, source: null },
  quote: null,
  promisedAt: "",
  payment: "cash",
  changeFrom: "",
  comment: "",
  receipts: null,
  submitting: false,
  placed: null,
  editing: null, // the order being changed: {id, number, version, address}
  menuBranchId: null,
  zonesConfigured: null, // false: no zone exists, the operator picks the delivering branch
};

const listeners = new Map();

/** Call ``fn`` whenever ``topic`` changes. */
export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, []);
  listeners.get(topic).push(fn);
}

/** Tell the listeners of ``topic`` that it changed. */
export function emit(topic, detail) {
  for (const fn of listeners.get(topic) || []) fn(detail);
}

/** True while something was entered that clearing would lose. */
export function isDirty() {
  return Boolean(
    !state.placed &&
      (state.editing ||
        state.cart.length || state.newAddress.text || state.comment || (state.lookup && !state.client && state.name))
  );
}
