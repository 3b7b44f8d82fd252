// corridor: keeps the scanning screen usable without a network. Served at /sw.js (scope /).
//
// It keeps only the scanning, registration and incident report pages (forms, no one's data) and the
// files they load (scan.js and outbox.js put them in the cache); never an API answer or the roster
// of people, which the scanning page keeps encrypted in IndexedDB. Log-out
// deletes this cache and unregisters this worker (wipe.js).
"use strict";
const CACHE = "corridor-scan-v1";
// The pages a field worker uses without a network: scanning, registering, reporting an incident.
const SCAN_PAGE = /^\/operations\/[^/]+\/(scan|register|incidents\/new)$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && SCAN_PAGE.test(url.pathname)) {
    event.respondWith(pageFirstFromNetwork(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(keptFileFirst(request, event));
  }
});

// The page from the network when it answers (and kept), else the kept copy.
async function pageFirstFromNetwork(request) {
  const cache = await caches.open(CACHE);
  try {
    const answer = await fetch(request);
    if (answer.ok) await cache.put(request, answer.clone());
    return answer;
  } catch (error) {
    const kept = (await cache.match(request)) || (await cache.match(request, { ignoreSearch: true }));
    return kept || Response.error();
  }
}

// A kept file at once (refreshed in the background when online); any other file from the network.
async function keptFileFirst(request, event) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request);
  if (!kept) return fetch(request);
  event.waitUntil(
    fetch(request)
      .then((answer) => (answer.ok ? cache.put(request, answer) : undefined))
      .catch(() => undefined),
  );
  return kept;
}
