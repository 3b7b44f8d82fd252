// corridor: the checkpoint scanning screen.
//
// Each scan is judged here, in the browser, from the roster of the route point chosen (the people
// whose manifest passes it: vehicle, wristband and what bears on a scan there), loaded whole once
// and then kept current by the changes since its cursor whenever the server can be reached, so
// scanning goes on without a network. Each scan that records something becomes a ledger event in a queue
// kept in IndexedDB ("corridor-scan"), sent in batches to the API when online; the server accepts
// a repeat of an event harmlessly, so sending twice never counts twice.
//
// What is kept in this browser, and how: the roster (names, wristbands, ids), the queued events
// and the list of scans that need attention are encrypted at rest with AES-GCM under a key made
// here by WebCrypto as *non-extractable* (no script can read its bytes, it can only be used) and
// kept in the same database. Log-out deletes the database, the key with it, the cached page and
// the service worker (wipe.js). This protects a phone lost or taken *after* log-out, or read
// from its storage: what is left cannot be read. It does not protect against a compromised
// browser or someone using the phone *during* the session: the key is usable then, by design.
"use strict";
(function () {
  const root = document.getElementById("scan");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const T = JSON.parse($("scan-text").textContent);
  const OP = root.dataset.operation;
  const USER_DEVICE = root.dataset.device; // "user:<username>"; this browser adds "/<id>"
  const CACHE = "corridor-scan-v1";
  const BATCH = 100;
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  // A message with a count comes as its plural forms by CLDR category; the page's language picks one.
  const PLURAL = new Intl.PluralRules(document.documentElement.lang || "en");
  const count = (forms, n) => (typeof forms === "string" ? forms : forms[PLURAL.select(n)] || forms.other);
  // Times in the operation's zone, with its name (as the server's pages), not the phone's own zone.
  const ZONE = root.dataset.zone || "UTC";
  const ZONE_NAME = root.dataset.zoneName || "UTC";
  const ZONE_OFFSET = Number(root.dataset.zoneOffset || 0);
  const two = (n) => String(n).padStart(2, "0");
  function clock(at) {
    let text;
    if (ZONE.includes("/")) {
      text = new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);
    } else {
      const shifted = new Date(at.getTime() + ZONE_OFFSET * 60000);
      text = `${two(shifted.getUTCHours())}:${two(shifted.getUTCMinutes())}`;
    }
    return `${text} ${ZONE_NAME}`;
  }

  // ---- IndexedDB -------------------------------------------------------------------------
  let db, key, deviceId;
  const done = (r) => new Promise((ok, ko) => { r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
  function openDb() {
    const r = indexedDB.open("corridor-scan", 1);
    r.onupgradeneeded = () => {
      const d = r.result;
      d.createObjectStore("meta"); // key, browser id, seq per device
      d.createObjectStore("vault"); // encrypted snapshot and local sightings, per operation
      d.createObjectStore("queue", { keyPath: "id" }); // events to send (payload encrypted)
      d.createObjectStore("attention", { keyPath: "id" }); // refused events (encrypted)
    };
    return done(r);
  }
  // One transaction; resolves once it is committed (an acknowledged scan is on disk).
  function tx(names, mode, work) {
    return new Promise((ok, ko) => {
      const t = db.transaction(names, mode);
      let result;
      Promise.resolve(work(t)).then((r) => { result = r; }, ko);
      t.oncomplete = () => ok(result);
      t.onerror = t.onabort = () => ko(t.error);
    });
  }
  const read = (store, k) => tx([store], "readonly", (t) => done(t.objectStore(store).get(k)));
  const readAll = (store) => tx([store], "readonly", (t) => done(t.objectStore(store).getAll()));

  // The value at meta[k], made by make() if missing (the first writer wins across tabs).
  async function once(k, made) {
    return tx(["meta"], "readwrite", async (t) => {
      const s = t.objectStore("meta");
      const found = await done(s.get(k));
      if (found !== undefined) return found;
      s.put(made, k);
      return made;
    });
  }

  // ---- encryption at rest ------------------------------------------------------------------
  async function seal(value) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = new TextEncoder().encode(JSON.stringify(value));
    return { iv, data: await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plain) };
  }
  async function unseal(box) {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: box.iv }, key, box.data);
    return JSON.parse(new TextDecoder().decode(plain));
  }
  async function keep(name, value) {
    const box = await seal(value);
    await tx(["vault"], "readwrite", (t) => { t.objectStore("vault").put(box, name + ":" + OP); });
  }
  async function recall(name) {
    const box = await read("vault", name + ":" + OP);
    try { return box ? await unseal(box) : null; } catch (e) { return null; }
  }

  // ---- the snapshot and what this browser saw since ----------------------------------------
  let snapshot = null;
  const byCode = new Map(); // person id or wristband (lower case) -> person
  const vehicles = new Map(); // vehicle code (lower case) -> vehicle
  // Sightings recorded here that the snapshot may not show yet: "person:<id>" -> {p, f, v, e, sent}
  let seen = {};

  function useSnapshot(data) {
    snapshot = data;
    byCode.clear();
    vehicles.clear();
    for (const [id, wristband, vehicle, status, progress, name] of data.people) {
      const person = { kind: "person", id, wristband, vehicle, status, progress, name };
      byCode.set(id.toLowerCase(), person);
      if (wristband) byCode.set(wristband.toLowerCase(), person);
    }
    for (const [code, status, progress] of data.vehicles) {
      vehicles.set(code.toLowerCase(), { kind: "vehicle", id: code, vehicle: code, status, progress });
    }
    const at = new Date(data.made_at);
    $("scan-snapshot").textContent = fill(count(T.snapshot, data.people.length), {
      time: clock(at),
      n: data.people.length,
    });
    root.dataset.snapshot = data.made_at;
  }

  // The subject's state: the snapshot's, moved on by what was recorded here since.
  function current(subject) {
    const mine = seen[subject.kind + ":" + subject.id];
    const alarmed = subject.status === "missing" || subject.status === "detained";
    const state = {
      progress: subject.progress,
      arrived: subject.status === "arrived",
      returned: subject.status === "returned",
      alarm: alarmed ? subject.status : null,
    };
    if (mine) {
      state.progress = Math.max(state.progress, mine.p);
      if (mine.f) Object.assign(state, { arrived: true, alarm: null });
    }
    return state;
  }

  // The roster of this point: the people whose manifest passes it (and those registered here on
  // no manifest yet), whole the first time, then
  // only the changes since the cursor of the last answer (a few hundred bytes when little moves).
  async function fetchSnapshot() {
    if (!navigator.onLine) return;
    const asked = Date.now();
    const point = $("scan-point").value;
    const since = snapshot && snapshot.point === point && snapshot.cursor ? `&since=${encodeURIComponent(snapshot.cursor)}` : "";
    let answer;
    try {
      answer = await fetch(`/api/operations/${OP}/roster?point=${encodeURIComponent(point)}${since}`, {
        credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
      });
    } catch (e) { return; }
    if (answer.status === 401) return problem(T.session_ended);
    if (!answer.ok) return;
    const delta = await answer.json();
    if ($("scan-point").value !== point) return; // the point changed meanwhile: asked again
    useSnapshot(merged(delta, point));
    for (const k of Object.keys(seen)) if (seen[k].sent && seen[k].sent < asked) delete seen[k];
    await keep("snap", snapshot);
    await keep("seen", seen);
  }

  // The roster after a whole answer or a delta (rows replaced by id, gone ids dropped).
  function merged(delta, point) {
    const base = delta.full || !snapshot ? { people: [], vehicles: [] } : snapshot;
    const people = new Map(base.people.map((row) => [row[0], row]));
    for (const id of delta.gone) people.delete(id);
    for (const row of delta.people) people.set(row[0], row);
    const vehicles = new Map(base.vehicles.map((row) => [row[0], row]));
    for (const row of delta.vehicles) vehicles.set(row[0], row);
    return {
      point, cursor: delta.cursor, made_at: new Date().toISOString(),
      people: [...people.values()], vehicles: [...vehicles.values()],
    };
  }

  // ---- judging a scan -----------------------------------------------------------------------
  function here() {
    const option = $("scan-point").selectedOptions[0];
    return { id: option.value, index: Number(option.dataset.index), kind: option.dataset.kind, name: option.textContent };
  }
  const pointName = (index) => {
    const option = $("scan-point").querySelector(`option[data-index="${index}"]`);
    return option ? option.textContent : String(index);
  };

  // The ledger event a sighting of ``subject`` here makes.
  function eventFor(subject, point, vehicle) {
    const payload = { point: point.id };
    let type = point.kind === "arrival" ? "arrived" : "checkpoint";
    if (subject.kind === "person") {
      payload.person_id = subject.id;
      if (vehicle) payload.vehicle_id = vehicle;
      if (point.kind === "departure") type = "boarded";
    } else {
      payload.vehicle_id = subject.id;
      if (point.kind === "departure") type = "departed";
    }
    return { type, payload };
  }

  // The note a sighting of someone on no manifest carries in the ledger (for whoever reads it later).
  const NO_MANIFEST = "on no manifest";

  // The answer to a scan: outcome (expected, not_on_manifest, already, flagged), the words, and
  // the event to record (null: nothing new to record). Every sighting of a known person is
  // recorded, except someone about to board the wrong vehicle (they are sent to their own) and
  // a repeat of what is already known.
  function judge(code) {
    const point = here();
    const chosen = $("scan-vehicle").value;
    const key = code.trim().toLowerCase();
    const subject = byCode.get(key) || vehicles.get(key);
    if (!subject) return { outcome: "flagged", head: T.flagged, detail: fill(T.unknown_here, { code }), event: null, where: whereText(null, point) };
    let note = "";
    if (subject.kind === "vehicle") {
      chooseVehicle(subject.id);
      note = fill(T.vehicle_chosen, { vehicle: subject.id });
    }
    const who = subject.kind === "vehicle" ? subject.id : subject.name || fill(T.person, { id: subject.id.slice(0, 8) });
    const state = current(subject);
    const manifest = subject.vehicle ? fill(T.manifest_of, { vehicle: subject.vehicle }) : T.not_on_any;
    const event = eventFor(subject, point, subject.kind === "person" ? chosen : "");
    const answer = (outcome, head, detail, recorded) => ({ outcome, head, who, detail: [detail, note].filter(Boolean).join(" "), event: recorded ? event : null, where: whereText(recorded ? event : null, point) });
    if (state.arrived) return answer("already", T.already_arrived, manifest, false);
    if (state.alarm || state.returned) {
      const status = T["status_" + (state.alarm || "returned")];
      return answer("flagged", T.flagged, fill(T.reported, { status }), true);
    }
    if (state.progress >= point.index) {
      return answer("already", T.already_here, fill(T.seen_at, { point: pointName(state.progress) }), false);
    }
    if (subject.kind === "person" && !subject.vehicle) {
      // Registered where they gather, on no manifest yet: recognised, and the sighting recorded
      // with a note saying so (reconciliation counts them like anyone registered).
      event.payload.note = NO_MANIFEST;
      return answer("not_on_manifest", T.not_on_any, T.registered_here, true);
    }
    if (subject.kind === "person" && chosen && subject.vehicle !== chosen) {
      return answer("not_on_manifest", T.not_on_manifest, manifest, point.kind !== "departure");
    }
    return answer("expected", T.expected, manifest, true);
  }

  // The point this phone records at, said with each answer (with what is recorded there), so
  // that a marshal who forgot to switch points sees it at once.
  function whereText(event, point) {
    const action = event && event.payload.person_id ? T["status_" + ({ boarded: "boarded", checkpoint: "passed_checkpoint", arrived: "arrived" })[event.type]] : "";
    return [action, point.name].filter(Boolean).join(" · ");
  }

  function show(verdict, recorded) {
    const box = $("scan-answer");
    box.querySelector(".answer-where").textContent = verdict.where || "";
    box.dataset.outcome = verdict.outcome;
    box.querySelector(".answer-head").textContent = verdict.head + (verdict.who ? " · " + verdict.who : "");
    box.querySelector(".answer-detail").textContent = verdict.detail;
    box.querySelector(".answer-note").textContent = recorded ? T.recorded : T.not_recorded;
  }

  function addRecent(verdict) {
    const item = document.createElement("li");
    item.className = "o-" + verdict.outcome;
    const time = clock(new Date());
    item.textContent = [time, verdict.head, verdict.who].filter(Boolean).join(" · ");
    const list = $("scan-recent");
    list.prepend(item);
    while (list.children.length > 8) list.lastChild.remove();
  }

  let audio = null;
  function beep(outcome) {
    if (!$("scan-sound").checked) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const tones = outcome === "expected" ? [880] : outcome === "already" ? [520, 520] : [220, 220, 220];
      tones.forEach((hz, i) => {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = outcome === "expected" ? "sine" : "square";
        osc.frequency.value = hz;
        gain.gain.value = 0.15;
        osc.connect(gain).connect(audio.destination);
        const start = audio.currentTime + i * 0.2;
        osc.start(start);
        osc.stop(start + 0.14);
      });
    } catch (e) { /* no sound: the colour and the words remain */ }
  }

  // ---- the queue ----------------------------------------------------------------------------
  function deviceTime() {
    const d = new Date();
    const pad = (n, w = 2) => String(Math.abs(n)).padStart(w, "0");
    const offset = -d.getTimezoneOffset();
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
      `${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
      `${offset < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  }

  // Store the event with the next seq of this browser's device id, in one transaction.
  async function enqueue(event) {
    const id = crypto.randomUUID();
    const body = { event_id: id, device_id: deviceId, device_time: deviceTime(), type: event.type, payload: event.payload };
    const box = await seal(body);
    await tx(["meta", "queue"], "readwrite", async (t) => {
      const meta = t.objectStore("meta");
      const seq = ((await done(meta.get("seq:" + deviceId))) || 0) + 1;
      meta.put(seq, "seq:" + deviceId);
      t.objectStore("queue").put({ id, op: OP, seq, iv: box.iv, data: box.data });
    });
    return id;
  }

  async function waiting() {
    return (await readAll("queue")).filter((r) => r.op === OP).sort((a, b) => a.seq - b.seq);
  }

  let queued = 0;
  async function showQueue() {
    queued = (await waiting()).length;
    const el = $("scan-queue");
    el.dataset.count = String(queued);
    el.textContent = queued === 0 ? T.queue_none : queued === 1 ? T.queue_one : fill(T.queue, { n: queued });
  }

  function problem(text) {
    const el = $("scan-error");
    el.hidden = !text;
    el.textContent = text || "";
  }

  async function errorText(answer) {
    try {
      const body = await answer.json();
      return [body.error.message, body.error.hint].filter(Boolean).join(" — ");
    } catch (e) { return String(answer.status); }
  }

  function csrf() {
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("corridor_csrf="));
    return cookie ? decodeURIComponent(cookie.slice(14)) : document.querySelector('meta[name="csrf-token"]').content;
  }

  let sending = null;
  let again = false;
  function send() {
    if (sending) { again = true; return sending; }
    sending = sendAll().finally(() => {
      sending = null;
      showQueue();
      if (again) { again = false; send(); }
    });
    return sending;
  }

  async function sendAll() {
    if (!navigator.onLine) return;
    for (;;) {
      const records = (await waiting()).slice(0, BATCH);
      if (!records.length) return;
      const events = [];
      for (const r of records) events.push(Object.assign(await unseal(r), { seq: r.seq }));
      let answer;
      try {
        answer = await fetch(`/api/operations/${OP}/events/batch`, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
          body: JSON.stringify({ events, device_now: deviceTime() }), // the clock, for its offset
        });
      } catch (e) { return showNet(false); } // no network: they stay queued
      if (answer.status === 401) return problem(T.session_ended);
      if (!answer.ok) return problem(fill(T.send_failed, { message: await errorText(answer) }));
      await settle(events, (await answer.json()).results);
      problem("");
      showNet(true);
    }
  }

  // Stored and repeated events leave the queue; conflicts and refusals go to "needs attention".
  async function settle(events, results) {
    const byId = new Map(events.map((e) => [e.event_id, e]));
    const refused = [];
    for (const r of results) if (r.outcome !== "stored" && r.outcome !== "repeat") refused.push({ result: r, box: await seal({ event: byId.get(r.event_id), result: r }) });
    await tx(["queue", "attention"], "readwrite", (t) => {
      for (const r of results) t.objectStore("queue").delete(r.event_id);
      for (const { result, box } of refused) t.objectStore("attention").put({ id: result.event_id, op: OP, ...box });
    });
    const now = Date.now();
    for (const k of Object.keys(seen)) if (byId.has(seen[k].e)) seen[k].sent = now;
    await keep("seen", seen);
    if (refused.length) await showAttention();
  }

  async function showAttention() {
    const items = (await readAll("attention")).filter((r) => r.op === OP);
    const section = $("scan-attention");
    const list = section.querySelector("ul");
    list.replaceChildren();
    for (const item of items) {
      let entry;
      try { entry = await unseal(item); } catch (e) { continue; }
      const p = entry.event.payload;
      const li = document.createElement("li");
      li.className = "alert bad";
      li.textContent = `${entry.event.type} ${p.person_id || p.vehicle_id} @ ${p.point} (${entry.event.device_time.slice(11, 16)}): ` +
        `${entry.result.outcome} — ${entry.result.message || ""} ${entry.result.hint || ""}`;
      list.append(li);
    }
    section.hidden = !items.length;
  }

  function showNet(online) {
    const el = $("scan-net");
    el.dataset.online = online ? "yes" : "no";
    el.textContent = online ? T.online : T.offline;
  }

  // ---- one scan -----------------------------------------------------------------------------
  async function scan(code) {
    if (!code.trim()) return;
    const verdict = judge(code);
    beep(verdict.outcome);
    show(verdict, false);
    addRecent(verdict);
    if (!verdict.event) return;
    const id = await enqueue(verdict.event);
    const point = here();
    const k = verdict.event.payload.person_id ? "person:" + verdict.event.payload.person_id : "vehicle:" + verdict.event.payload.vehicle_id;
    const before = seen[k] || { p: -1, f: false };
    seen[k] = { p: Math.max(before.p, point.index), f: before.f || point.kind === "arrival", e: id, sent: 0 };
    await keep("seen", seen);
    show(verdict, true);
    await showQueue();
    send();
  }

  let order = Promise.resolve(); // scans are handled one after another, in the order made
  function submit(code) {
    order = order.then(() => scan(code)).catch((e) => problem(String(e)));
    return order;
  }

  // ---- choices, camera, start ---------------------------------------------------------------
  const CHOICE = "corridor-scan-choice:" + OP;
  function chooseVehicle(code) {
    const select = $("scan-vehicle");
    if ([...select.options].some((o) => o.value === code)) select.value = code;
    remember();
  }
  function remember() {
    localStorage.setItem(CHOICE, JSON.stringify({ point: $("scan-point").value, vehicle: $("scan-vehicle").value }));
  }
  function restore() {
    try {
      const choice = JSON.parse(localStorage.getItem(CHOICE) || "{}");
      for (const [id, value] of [["scan-point", choice.point], ["scan-vehicle", choice.vehicle]]) {
        const select = $(id);
        if (value !== undefined && [...select.options].some((o) => o.value === value)) select.value = value;
      }
    } catch (e) { /* no choice kept */ }
  }

  // ---- camera ------------------------------------------------------------------------------
  // The browser's own barcode detector where it has one (Chrome on Android); elsewhere (iOS,
  // Firefox, desktop) the barcode-detector package, ZXing-C++ built to WebAssembly, served from
  // this site and kept for offline use once the camera has been used. ``?reader=library`` on the
  // page's address uses the library even where the browser has a detector.
  const LIBRARY = "/static/vendor/barcode-detector/dist/iife/ponyfill.js";
  const WASM = "/static/vendor/zxing-wasm/dist/reader/zxing_reader.wasm";
  const FORMATS = ["qr_code", "code_128", "code_39"];
  const libraryWanted = () => !("BarcodeDetector" in window) || new URLSearchParams(location.search).get("reader") === "library";
  function loadScript(src) {
    return new Promise((ok, ko) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = ok;
      s.onerror = () => ko(new Error(src));
      document.head.append(s);
    });
  }
  async function makeDetector() {
    if (!libraryWanted()) {
      const formats = (await BarcodeDetector.getSupportedFormats()).filter((f) => FORMATS.includes(f));
      root.dataset.reader = "native";
      return new BarcodeDetector({ formats });
    }
    if (!window.BarcodeDetectionAPI) await loadScript(LIBRARY);
    BarcodeDetectionAPI.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? WASM : prefix + path) },
      fireImmediately: true,
    });
    root.dataset.reader = "library";
    keepFiles([LIBRARY, WASM]);
    return new BarcodeDetectionAPI.BarcodeDetector({ formats: FORMATS });
  }

  let stream = null;
  async function camera() {
    const button = $("scan-camera");
    const video = $("scan-video");
    if (stream) {
      stream.getTracks().forEach((track) => track.stop());
      stream = null;
      video.hidden = true;
      button.textContent = T.camera;
      return;
    }
    const detector = await makeDetector();
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    button.textContent = T.camera_stop;
    root.dataset.camera = "on";
    let last = "", lastAt = 0;
    const look = async () => {
      if (!stream) return;
      try {
        const [found] = await detector.detect(video);
        if (found && (found.rawValue !== last || Date.now() - lastAt > 3000)) {
          last = found.rawValue;
          lastAt = Date.now();
          submit(found.rawValue);
        }
      } catch (e) { /* try the next frame */ }
      setTimeout(look, 250);
    };
    look();
  }

  // Any phone with a camera: the library reads codes where the browser cannot.
  async function offerCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
    if (!libraryWanted()) {
      try {
        if (!(await BarcodeDetector.getSupportedFormats()).includes("qr_code")) return;
      } catch (e) { return; }
    }
    $("scan-camera").hidden = false;
  }

  async function keepFiles(urls) {
    if (!window.caches) return;
    try {
      const cache = await caches.open(CACHE);
      await Promise.all(urls.map(async (url) => { if (!(await cache.match(url))) await cache.add(url); }));
    } catch (e) { /* the camera works while online */ }
  }

  // The page and its files, kept for a reload without a network (served by /sw.js).
  async function keepForOffline() {
    if (!("serviceWorker" in navigator) || !window.caches) return;
    try {
      await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      const cache = await caches.open(CACHE);
      const files = [...document.querySelectorAll("link[rel=stylesheet], script[src]")].map((e) => e.getAttribute("href") || e.getAttribute("src"));
      await Promise.all([location.pathname + location.search, ...files].map((url) => cache.add(url).catch(() => {})));
      await navigator.serviceWorker.ready;
      root.dataset.kept = "yes";
    } catch (e) { /* scanning still works while this page stays open */ }
  }

  async function start() {
    // Plain HTTP from another machine: the browser withholds storage and crypto; say so, with the https address.
    if (!window.isSecureContext) return location.replace("/needs-https?next=" + encodeURIComponent(location.pathname + location.search));
    if (!window.indexedDB || !window.crypto || !crypto.subtle || !crypto.randomUUID) return problem(T.unsupported);
    db = await openDb();
    db.onversionchange = () => db.close(); // log-out in another tab deletes the database
    const made = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    key = await once("key", made);
    deviceId = USER_DEVICE + "/" + (await once("browser", crypto.randomUUID().replace(/-/g, "").slice(0, 12)));
    restore();
    const kept = await recall("snap");
    if (kept) useSnapshot(kept);
    seen = (await recall("seen")) || {};
    showNet(navigator.onLine);
    await Promise.all([showQueue(), showAttention()]);
    root.dataset.ready = "yes";
    await fetchSnapshot();
    root.dataset.fetched = snapshot ? "yes" : "no";
    send();
    keepForOffline();
    offerCamera();
  }

  $("scan-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $("scan-code");
    const code = input.value;
    input.value = "";
    input.focus();
    submit(code);
  });
  // After a choice, back to the field: a hand scanner types wherever the focus is.
  for (const id of ["scan-point", "scan-vehicle"]) {
    $(id).addEventListener("change", () => { remember(); $("scan-code").focus(); });
  }
  $("scan-point").addEventListener("change", () => fetchSnapshot()); // another point, another roster
  $("scan-send").addEventListener("click", () => send());
  $("scan-camera").addEventListener("click", () => camera().catch((e) => problem(String(e))));
  window.addEventListener("online", () => { showNet(true); send().then(fetchSnapshot); });
  window.addEventListener("offline", () => showNet(false));
  setInterval(() => { if (queued) send(); }, 15000);
  setInterval(fetchSnapshot, 120000);
  const logout = document.querySelector("form[data-logout]");
  if (logout) {
    logout.addEventListener("submit", (ev) => {
      if (queued && !confirm(fill(count(T.logout_unsent, queued), { n: queued }))) ev.preventDefault();
    });
  }
  start().catch((e) => problem(String(e)));
})();
