// Shared helpers of the call-centre pages: page config, translated strings, JSON calls
// with the cookie session and the CSRF header, money and time display.

let CONFIG = null;

/** The page's config blob (rendered by callcentre/views.py). */
export function config() {
  if (!CONFIG) CONFIG = JSON.parse(document.getElementById("cc-config").textContent);
  return CONFIG;
}

/** A translated string with {placeholders} filled in. */
export function t(key, vars = {}) {
  const text = config().strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Fill {id}-style placeholders of an API address. */
export function url(name, params = {}, query = null) {
  let path = config().api[name].replace(/\{(\w+)\}/g, (m, key) => encodeURIComponent(params[key]));
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === null || v === undefined || v === "") continue;
      if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
      else q.append(k, v);
    }
    const s = q.toString();
    if (s) path += "?" + s;
  }
  return path;
}

/** A random key for Idempotency-Key (crypto.randomUUID needs a secure context; this does not). */
export function randomKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/**
 * Call the JSON API. Resolves to {ok, status, data} — never throws: a network failure is
 * {ok:false, status:0}; a problem+json answer is in data (title, detail, errors[]).
 */
export async function call(method, path, body = undefined, { idempotencyKey = null, signal = null } = {}) {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (err) {
    if (err && err.name === "AbortError") return { ok: false, status: -1, data: null, aborted: true };
    return { ok: false, status: 0, data: { detail: t("network_error") } };
  }
  let data = null;
  const type = resp.headers.get("Content-Type") || "";
  if (resp.status !== 204 && type.includes("json")) {
    try {
      data = await resp.json();
    } catch {
      data = null;
    }
  }
  if (!resp.ok && !data) {
    data = { detail: resp.status >= 500 ? t("server_error") : resp.statusText };
  }
  if (resp.status === 401) data = { ...data, detail: t("session_expired") };
  return { ok: resp.ok, status: resp.status, data };
}

/** The human message of a failed call. */
export function problemText(res) {
  if (res.status === 0) return t("network_error");
  if (res.status === 403) return (res.data && res.data.detail) || t("forbidden");
  const d = res.data || {};
  return d.detail || d.title || t("server_error");
}

// --- money: decimal strings in, integers of minor units in between, display out -----------------

/** "1234.5" / 1234.5 → 123450 (minor units); invalid → NaN. */
export function toMinor(value) {
  if (value === null || value === undefined || value === "") return NaN;
  const text = String(value).trim().replace(/\s/g, "").replace(",", ".");
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return NaN;
  const minor = Number(m[2]) * 100 + Number((m[3] || "").padEnd(2, "0"));
  return m[1] ? -minor : minor;
}

/** Minor units → "1234.50" for the API. */
export function minorToDecimal(minor) {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

const SYMBOLS = { RUB: "₽", EUR: "€", USD: "$" };

/** "1234.5" or a number of minor units (with minor=true) → "1 234.50 ₽". */
export function money(value, { minor = false } = {}) {
  const m = minor ? value : toMinor(value);
  if (Number.isNaN(m) || m === null || m === undefined) return "—";
  const sign = m < 0 ? "-" : "";
  const abs = Math.abs(m);
  const major = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
  const cur = config().currency;
  return `${sign}${major}.${String(abs % 100).padStart(2, "0")} ${SYMBOLS[cur] || cur}`;
}

/** "+79123456789" → "+7 912 345-67-89" (other numbers as they are). */
export function displayPhone(e164) {
  const m = /^\+7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(e164 || "");
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : e164 || "";
}

// --- time ---------------------------------------------------------------------------------------

/** An ISO time → "14:05" in the business time zone. */
export function clock(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(config().locale, {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: config().timezone,
  });
}

/** An ISO time → "12.03.2025" (or "Mar 12, 2025") in the business time zone. */
export function day(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleDateString(config().locale, { timeZone: config().timezone, dateStyle: "medium" });
}

/** An ISO time → date and time, e.g. for a pre-order slot. */
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(config().locale, {
    timeZone: config().timezone,
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
}

// --- DOM ----------------------------------------------------------------------------------------

/** Create an element: el("li", {class: "x", onclick: f}, "text", child…). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Replace a node's children, skipping null/false/undefined ones (conditional parts). */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** Run ``fn`` once ``ms`` after the last call. */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.now = (...args) => {
    clearTimeout(timer);
    return fn(...args);
  };
  return wrapped;
}

/** Connect to a Socket.IO namespace with the session cookie; calls onState(true/false). */
export function liveSocket(namespace, onState) {
  if (typeof window.io !== "function") {
    onState(false);
    return null;
  }
  const socket = window.io(namespace, { transports: ["websocket", "polling"], withCredentials: true });
  socket.on("connect", () => onState(true));
  socket.on("disconnect", () => onState(false));
  socket.on("connect_error", () => onState(false));
  return socket;
}
