// The phone's side of the courier API: the session (bearer token in localStorage, refreshed before
// it expires), plain calls, and the outbox — every action the courier takes is written to
// IndexedDB with its Idempotency-Key first and sent from there, again and again until the server
// answers, across reloads. An answer that refuses the action (403/404/409/413/422) stays in the
// outbox as refused until the courier has read it; nothing is dropped silently.

import { config, randomKey, t } from "frontoffice/shared.js";

const SESSION_KEY = "courierapp.session";
const SIGNED_OUT_KEY = "courierapp.signedOut";
const DB_NAME = "courierapp";
const STORE = "outbox";
const RETRY_MS = [1000, 2000, 5000, 10000, 20000, 30000];

// --- the session ---------------------------------------------------------------------------------

/** The stored session: {token, expires_at, issued_at, courier} or null. */
export function session() {
  try {
    return JSON.parse(localStorage.getItem(SESSION_KEY)) || null;
  } catch {
    return null;
  }
}

/** Keep a session answer of the API (login or refresh). */
export function keepSession(data) {
  const value = { token: data.token, expires_at: data.expires_at, issued_at: new Date().toISOString(), courier: data.courier };
  localStorage.setItem(SESSION_KEY, JSON.stringify(value));
  localStorage.removeItem(SIGNED_OUT_KEY);
  return value;
}

/** Drop the session; ``reason`` (why the server refused it) stays for the login screen, reloads included. */
export function forgetSession(reason = "") {
  localStorage.removeItem(SESSION_KEY);
  if (reason) localStorage.setItem(SIGNED_OUT_KEY, reason);
  else localStorage.removeItem(SIGNED_OUT_KEY);
}

/** Why the last session ended, if the server refused it ("" after a logout or a new login). */
export function signedOutReason() {
  return localStorage.getItem(SIGNED_OUT_KEY) || "";
}

/** Whether a 401 answer means the stored session is dead (not a call made with a token since swapped). */
export function sessionDied(res) {
  return res.status === 401 && Boolean(session()) && res.token === session().token;
}

/** Whether the token has lived past half its life (time to swap it for a new one). */
export function needsRefresh(s = session(), now = Date.now()) {
  if (!s || !s.expires_at) return false;
  const issued = Date.parse(s.issued_at);
  const expires = Date.parse(s.expires_at);
  return now >= issued + (expires - issued) / 2;
}

/**
 * Call the API with the bearer token. Resolves to {ok, status, data, retryAfter, token} — never
 * throws; status 0 is no network; ``token`` is the one the call was made with.
 */
export async function api(method, path, body = undefined, { key = null, token = session()?.token } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch {
    return { ok: false, status: 0, data: { detail: t("network_error") }, retryAfter: null, token };
  }
  let data = null;
  if ((resp.headers.get("Content-Type") || "").includes("json")) {
    try {
      data = await resp.json();
    } catch {
      data = null;
    }
  }
  return { ok: resp.ok, status: resp.status, data, retryAfter: resp.headers.get("Retry-After"), token };
}

/** Swap the token for a fresh one when it is past half its life (quietly retried later when offline). */
export async function refreshIfDue() {
  if (!needsRefresh()) return false;
  const res = await api("POST", config().api.refresh);
  if (res.ok) keepSession(res.data);
  return res.ok;
}

// --- the outbox ----------------------------------------------------------------------------------

let dbPromise = null;

function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "key" });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

async function store(mode, fn) {
  const database = await db();
  return new Promise((resolve, reject) => {
    const tx = database.transaction(STORE, mode);
    const result = fn(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
    tx.onerror = () => reject(tx.error);
  });
}

/** Every action in the outbox, oldest first. */
export async function pending() {
  const all = (await store("readonly", (s) => s.getAll())) || [];
  return all.sort((a, b) => a.created - b.created);
}

const listeners = new Set();

/** ``fn(entry, result)`` hears every action the server answered (accepted or refused). */
export function onAnswer(fn) {
  listeners.add(fn);
}

const changeListeners = new Set();

/** ``fn()`` hears every change of the outbox. */
export function onChange(fn) {
  changeListeners.add(fn);
}

function changed() {
  for (const fn of changeListeners) fn();
}

/**
 * Queue an action: ``kind`` (claim, pickup, deliver, fail, shift_start, shift_end), the call, and
 * what to show while it waits (``number`` of the order). Sends at once when it can.
 */
export async function enqueue(kind, method, path, body, extra = {}) {
  const courier = session()?.courier?.id ?? null;
  const entry = { key: randomKey(), created: Date.now(), courier, kind, method, path, body, state: "waiting", ...extra };
  await store("readwrite", (s) => s.put(entry));
  changed();
  flush();
  return entry;
}

/** Forget a refused action the courier has read. */
export async function dismiss(key) {
  await store("readwrite", (s) => s.delete(key));
  changed();
}

let flushing = null;
let again = false;
let attempt = 0;
let timer = null;

function retryLater() {
  clearTimeout(timer);
  timer = setTimeout(flush, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
  attempt += 1;
}

/** Whether an answer means "try again later" rather than an answer about the action. */
function transient(res) {
  if (res.status === 0 || res.status >= 500 || res.status === 429 || res.status === 401) return true;
  return res.status === 409 && res.retryAfter !== null; // still being processed under this key
}

async function sendAll() {
  for (const entry of await pending()) {
    if (entry.state !== "waiting") continue;
    if (!session()) return; // the session expired: keep everything until the next login
    if (entry.courier !== session().courier?.id) continue; // another courier's: never sent as this one
    const res = await api(entry.method, entry.path, entry.body, { key: entry.key });
    if (transient(res)) {
      if (sessionDied(res)) for (const fn of listeners) fn(entry, res);
      retryLater();
      return;
    }
    attempt = 0;
    if (res.ok) {
      await store("readwrite", (s) => s.delete(entry.key));
    } else {
      const detail = (res.data && (res.data.detail || res.data.title)) || String(res.status);
      const problem = res.data && typeof res.data === "object" ? res.data : null;
      await store("readwrite", (s) => s.put({ ...entry, state: "refused", status: res.status, detail, problem }));
    }
    changed();
    for (const fn of listeners) fn(entry, res);
  }
}

/** Send what waits, in the order it was queued; one run at a time. */
export function flush() {
  if (flushing) {
    again = true;
    return flushing;
  }
  clearTimeout(timer);
  again = false;
  flushing = sendAll().finally(() => {
    flushing = null;
    if (again) flush();
  });
  return flushing;
}

window.addEventListener("online", () => {
  attempt = 0;
  flush();
});
