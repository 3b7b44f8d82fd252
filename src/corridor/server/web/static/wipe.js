// After log-out: remove everything this browser kept for the session (offline scan queue,
// cached manifests and their key, the scanning page kept for offline use and its service
// worker). Runs on the "logged out" page.
"use strict";
(async function () {
  const status = document.getElementById("wipe-status");
  try {
    if (navigator.serviceWorker) {
      for (const registration of await navigator.serviceWorker.getRegistrations()) await registration.unregister();
    }
    if (indexedDB.databases) {
      const deleting = [];
      for (const db of await indexedDB.databases()) {
        if (!db.name || !db.name.startsWith("corridor")) continue;
        // An open scanning page closes its connection when asked (onversionchange); wait for it.
        const request = indexedDB.deleteDatabase(db.name);
        deleting.push(new Promise((done) => { request.onsuccess = request.onerror = done; }));
      }
      await Promise.all(deleting);
    }
    sessionStorage.clear();
    localStorage.clear();
    if (window.caches) {
      for (const name of await caches.keys()) await caches.delete(name);
    }
    if (status) status.dataset.wiped = "yes";
    if (status) status.textContent = status.textContent + " ✓";
  } catch (e) {
    if (status) status.dataset.wiped = "failed";
  }
})();
