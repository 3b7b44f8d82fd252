// After log-out: remove everything this browser kept for the session (offline scan queue,
// cached manifests and their key). Runs on the "logged out" page.
"use strict";
(async function () {
  const status = document.getElementById("wipe-status");
  try {
    if (indexedDB.databases) {
      for (const db of await indexedDB.databases()) {
        if (db.name && db.name.startsWith("corridor")) indexedDB.deleteDatabase(db.name);
      }
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
