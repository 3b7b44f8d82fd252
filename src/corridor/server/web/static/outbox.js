// corridor: forms typed without a network (registrations, incident reports with their photos and
// files) wait in this browser and are sent by themselves once it is online again.
//
// Each form gets an id made here (``client_id``, a UUID) when it is typed; the server stores a form
// once per id, so a form sent twice (a resend after an answer that never came back) is stored once.
// Waiting forms are kept in IndexedDB ("corridor-outbox"), encrypted at rest with AES-GCM under a
// non-extractable key kept beside them, as the scan queue is; log-out deletes the database with
// its key (wipe.js). The page is kept for a reload without a network by the service worker (sw.js).
"use strict";
window.corridorOutbox = (function () {
  const CACHE = "corridor-scan-v1"; // the service worker's cache (sw.js)
  const FORM_PAGE = /^\/operations\/[^/]+\/(register|incidents\/new)$/; // pages sw.js serves offline
  const done = (r) => new Promise((ok, ko) => { r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  // A message with a count comes as its plural forms by CLDR category; the page's language picks one.
  const PLURAL = new Intl.PluralRules(document.documentElement.lang || "en");
  const count = (forms, n) => (typeof forms === "string" ? forms : forms[PLURAL.select(n)] || forms.other);
  let opened = null;

  function open() {
    opened = opened || (async () => {
      const request = indexedDB.open("corridor-outbox", 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore("meta");
        request.result.createObjectStore("forms", { keyPath: "id" });
      };
      const db = await done(request);
      db.onversionchange = () => db.close(); // log-out in another tab deletes the database
      const made = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      const key = await write(db, ["meta"], async (t) => {
        const found = await done(t.objectStore("meta").get("key"));
        if (found) return found;
        t.objectStore("meta").put(made, "key");
        return made;
      });
      return { db, key };
    })();
    return opened;
  }

  // One transaction; resolves once it is committed (a kept form is on disk).
  function write(db, names, work) {
    return new Promise((ok, ko) => {
      const t = db.transaction(names, "readwrite");
      let result;
      Promise.resolve(work(t)).then((r) => { result = r; }, ko);
      t.oncomplete = () => ok(result);
      t.onerror = t.onabort = () => ko(t.error);
    });
  }

  async function seal(key, bytes) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    return { iv, data: await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, bytes) };
  }
  const unseal = (key, box) => crypto.subtle.decrypt({ name: "AES-GCM", iv: box.iv }, key, box.data);

  // Keep the form as it is now (its fields, and its files with their bytes), to send to ``url``.
  async function keep(form, url, kind, op) {
    const { db, key } = await open();
    const text = [];
    const files = [];
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string") text.push([name, value]);
      else if (value.name) files.push({ name, filename: value.name, type: value.type, box: await seal(key, await value.arrayBuffer()) });
    }
    const record = {
      id: form.elements.client_id.value, kind, op, url, at: Date.now(), refused: null,
      text: await seal(key, new TextEncoder().encode(JSON.stringify(text))), files,
    };
    await write(db, ["forms"], (t) => { t.objectStore("forms").put(record); });
  }

  async function waiting(kind, op) {
    const { db } = await open();
    const all = await done(db.transaction("forms").objectStore("forms").getAll());
    return all.filter((r) => r.kind === kind && r.op === op).sort((a, b) => a.at - b.at);
  }

  function csrf() {
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("corridor_csrf="));
    return cookie ? decodeURIComponent(cookie.slice(14)) : document.querySelector('meta[name="csrf-token"]').content;
  }

  // The words of a refusal (the fragment of errors the server answers with), short.
  async function refusal(answer) {
    const parsed = new DOMParser().parseFromString(await answer.text(), "text/html"); // inert
    const said = parsed.body.textContent.replace(/\s+/g, " ").trim();
    return `${answer.status}: ${said.slice(0, 300)}`;
  }

  // Send the waiting forms of this kind, oldest first. A form the server stored (or had stored
  // already: the same client id) leaves the queue; one it refuses stays, marked, for a person to
  // see; no network, a lost session or a server error leave the rest for later.
  async function send(kind, op) {
    if (!navigator.onLine) return;
    const { db, key } = await open();
    for (const record of await waiting(kind, op)) {
      if (record.refused) continue;
      const body = new FormData();
      for (const [name, value] of JSON.parse(new TextDecoder().decode(await unseal(key, record.text)))) body.append(name, value);
      for (const f of record.files) body.append(f.name, new File([await unseal(key, f.box)], f.filename, { type: f.type }));
      let answer;
      try {
        answer = await fetch(record.url, {
          method: "POST", body, credentials: "same-origin", headers: { "X-CSRF-Token": csrf(), "HX-Request": "true" },
        });
      } catch (e) { return; }
      if (answer.ok) {
        await write(db, ["forms"], (t) => { t.objectStore("forms").delete(record.id); });
      } else if ([401, 403, 408, 429].includes(answer.status) || answer.status >= 500) {
        return;
      } else {
        record.refused = await refusal(answer);
        await write(db, ["forms"], (t) => { t.objectStore("forms").put(record); });
      }
    }
  }

  // The page and its files, kept by the service worker for a reload without a network.
  async function keepPage() {
    if (!("serviceWorker" in navigator) || !window.caches) return;
    try {
      await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      const cache = await caches.open(CACHE);
      const files = [...document.querySelectorAll("link[rel=stylesheet], script[src]")].map((e) => e.getAttribute("href") || e.getAttribute("src"));
      // Only the form pages (no one's data): the incidents page with its timeline is never kept.
      const page = FORM_PAGE.test(location.pathname) ? [location.pathname] : [];
      await Promise.all([...page, ...files].map((url) => cache.add(url).catch(() => {})));
      await navigator.serviceWorker.ready;
      document.body.dataset.kept = "yes";
    } catch (e) { /* the queue still works while this page stays open */ }
  }

  // Queue ``form`` (posted by htmx to its hx-post address) when there is no network; show how many
  // wait; send them when online. ``cleared(words)`` empties the form for the next one and says
  // it was kept.
  // ``refuse`` (optional): called before a form is kept; true when it must not be (it says why).
  function attach(form, kind, cleared, refuse) {
    const op = form.dataset.operation;
    const url = form.getAttribute("hx-post");
    const status = document.getElementById("outbox");
    const words = JSON.parse(document.getElementById("outbox-text").textContent);
    const fresh = () => { form.elements.client_id.value = crypto.randomUUID(); };
    if (!window.indexedDB || !window.crypto || !crypto.subtle || !crypto.randomUUID) return;
    fresh();

    async function show() {
      const forms = await waiting(kind, op);
      status.dataset.count = String(forms.length);
      status.hidden = forms.length === 0;
      status.querySelector(".outbox-count").textContent = fill(count(words.waiting, forms.length), { n: forms.length });
      const list = status.querySelector(".outbox-refused");
      list.replaceChildren(...forms.filter((r) => r.refused).map((r) => {
        const item = document.createElement("li");
        item.textContent = fill(words.refused, { message: r.refused });
        return item;
      }));
      list.hidden = list.children.length === 0;
    }
    let busy = Promise.resolve();
    const flush = () => { busy = busy.then(() => send(kind, op)).catch(() => {}).then(show); return busy; };
    async function keepIt() {
      if (refuse && refuse(words)) return;
      await keep(form, url, kind, op);
      cleared(words.saved);
      fresh();
      await show();
    }

    form.addEventListener("htmx:beforeRequest", (e) => {
      if (e.detail.elt !== form || navigator.onLine) return;
      e.preventDefault();
      keepIt();
    });
    form.addEventListener("htmx:sendError", (e) => { if (e.detail.elt === form) keepIt(); });
    form.addEventListener("htmx:afterRequest", (e) => { if (e.detail.elt === form && e.detail.successful) fresh(); });
    status.querySelector("button").addEventListener("click", flush);
    window.addEventListener("online", flush);
    setInterval(() => { if (status.dataset.count !== "0") flush(); }, 30000);
    keepPage();
    flush().then(() => { form.dataset.outbox = "ready"; });
  }

  return { attach };
})();
