// The kernel's browser module, shared by every page's scripts (imported as "frontoffice/shared.js"
// through the import map of base.html): the page config and its translated strings, JSON calls with
// the cookie session and the CSRF header, money and time display, DOM helpers, the live socket.
// Nothing users typed reaches the DOM as HTML: pages build nodes with ``el``/``fill`` (text
// nodes), and hand ``textLabel`` to libraries that take HTML strings.

let CONFIG = null;

/**
 * The page's config: the JSON of its ``<script type="application/json" id="page-config">``
 * (locale, currency, time zone, translated ``strings`` and whatever the page needs); {} without one.
 */
export function config() {
  if (!CONFIG) {
    const node = document.getElementById("page-config");
    CONFIG = node ? JSON.parse(node.textContent) : {};
  }
  return CONFIG;
}

/** A translated string with {placeholders} filled in. */
export function t(key, vars = {}) {
  const text = config().strings?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/**
 * What users read for a code (an order status, a payment kind, a VAT rate …): the page's view puts
 * the translated label table of the families it shows into ``labels`` of its config
 * (frontoffice/labels.py); a code without a label is shown as it is.
 */
export function label(family, code) {
  if (code === null || code === undefined || code === "") return "";
  return config().labels?.[family]?.[code] ?? String(code);
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

const numberFormats = new Map();

/** A number as the page's currency, rounded to whole units in the locale's style ("12 345 ₽"), for wall screens. */
export function wholeMoney(value) {
  const key = `money:${config().locale}:${config().currency}`;
  if (!numberFormats.has(key)) {
    numberFormats.set(
      key,
      new Intl.NumberFormat(config().locale, {
        style: "currency",
        currency: config().currency,
        currencyDisplay: "narrowSymbol",
        maximumFractionDigits: 0,
      }),
    );
  }
  return numberFormats.get(key).format(Number(value));
}

/** "+79123456789" → "+7 912 345-67-89" (other numbers as they are). */
export function displayPhone(e164) {
  const m = /^\+7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(e164 || "");
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : e164 || "";
}

// --- time ---------------------------------------------------------------------------------------

const dateFormats = new Map();

/** An Intl.DateTimeFormat of the page's locale, made once per set of options. */
function dateFormat(options) {
  const key = JSON.stringify(options);
  if (!dateFormats.has(key)) dateFormats.set(key, new Intl.DateTimeFormat(config().locale, options));
  return dateFormats.get(key);
}

function parse(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** An ISO time → "14:05" (or "14:05:09" with seconds) in the business time zone. */
export function clock(iso, { seconds = false } = {}) {
  const d = parse(iso);
  if (!d) return "";
  return dateFormat({
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
    hourCycle: "h23",
    timeZone: config().timezone,
  }).format(d);
}

/** An ISO time → "12.03.2025" (or "Mar 12, 2025") in the business time zone. */
export function day(iso) {
  const d = parse(iso);
  if (!d) return "";
  return dateFormat({ timeZone: config().timezone, dateStyle: "medium" }).format(d);
}

/** A business date "2025-03-12" → "12.03.2025" (or "Mar 12, 2025"): the day itself, whatever the time zone. */
export function businessDay(date) {
  const d = parse(`${date}T12:00:00Z`);
  if (!d) return "";
  return dateFormat({ timeZone: "UTC", dateStyle: "medium" }).format(d);
}

/** A business date "2025-03-12" → "Wednesday, March 12" (weekday, day and month in words). */
export function longDate(date) {
  const d = parse(`${date}T12:00:00Z`);
  if (!d) return "";
  return dateFormat({ weekday: "long", day: "numeric", month: "long", timeZone: "UTC" }).format(d);
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

/** The hour of day (0–23) of an ISO time in the business time zone. */
export function hourOf(iso) {
  return Number(
    new Intl.DateTimeFormat("en-GB", { hour: "2-digit", hour12: false, timeZone: config().timezone }).format(
      new Date(iso),
    ),
  );
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

/**
 * Text for a library that would read a string as HTML — Leaflet's tooltips, popups and div icons
 * put a string in with innerHTML: a ``<span>`` holding ``parts`` as text, never parsed. Hand it
 * names and anything else users typed (``layer.bindTooltip(textLabel(zone.name))``).
 */
export function textLabel(...parts) {
  return el("span", {}, ...parts);
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

/**
 * Connect to a Socket.IO namespace with the session cookie and keep the link alive.
 *
 * ``onState(up, why)`` hears every change: up=true on connect; up=false with ``why`` one of
 * undefined (disconnected, socket.io reconnects by itself), "error" (a failed attempt),
 * "expired" (the server refused the session: log in again) or "stale" (silent for longer than
 * ``staleAfterS``: the link is dropped and made again). ``retryAfterMs`` retries a refused
 * attempt that socket.io gives up on. Other options go to ``io()``. Null without socket.io.
 */
export function liveSocket(namespace, onState, { staleAfterS = null, retryAfterMs = null, ...options } = {}) {
  if (typeof window.io !== "function") {
    onState(false);
    return null;
  }
  const socket = window.io(namespace, { transports: ["websocket", "polling"], withCredentials: true, ...options });
  let lastMessageAt = Date.now();
  socket.onAny(() => {
    lastMessageAt = Date.now();
  });
  socket.on("connect", () => onState(true));
  socket.on("disconnect", () => onState(false));
  socket.on("connect_error", (err) => {
    if (err && (err.message === "unauthorized" || err.message === "forbidden")) {
      onState(false, "expired");
      return;
    }
    onState(false, "error");
    if (retryAfterMs !== null && !socket.active) setTimeout(() => socket.connect(), retryAfterMs);
  });
  if (staleAfterS !== null) {
    // The server sends at least every heartbeat; silence longer than that means a dead link.
    setInterval(() => {
      if (socket.connected && Date.now() - lastMessageAt > staleAfterS * 1000) {
        onState(false, "stale");
        lastMessageAt = Date.now();
        socket.disconnect().connect();
      }
    }, 5000);
  }
  return socket;
}
