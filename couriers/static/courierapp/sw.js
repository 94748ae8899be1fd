// The courier app's service worker (served by couriers/app_views.py at /courier/sw.js, which
// prepends SHELL — the app shell's URLs — and VERSION — a digest of the shell's files).
// The shell is cached at install and served from the cache when the network is gone; the page
// itself is fetched from the network first (a fresh language, a new version) and the cached copy
// kept up to date. API calls and the socket are never cached: the outbox handles a bad network.
/* global SHELL, VERSION */

const CACHE = `courierapp-${VERSION}`;
const PAGE = SHELL[0];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("courierapp-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

async function pageFirstFromNetwork(request) {
  const cache = await caches.open(CACHE);
  try {
    const fresh = await fetch(request);
    if (fresh.ok) await cache.put(PAGE, fresh.clone());
    return fresh;
  } catch {
    return (await cache.match(PAGE)) || Response.error();
  }
}

async function shellFromCache(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === new URL(PAGE, self.location.origin).pathname) {
    event.respondWith(pageFirstFromNetwork(request));
  } else if (SHELL.includes(url.pathname)) {
    event.respondWith(shellFromCache(request));
  }
});
