// Incidents: the time in the phone's own zone, coordinates from its location, errors next to
// their fields, and the small map of incidents that have coordinates.
"use strict";
(function () {
  const form = document.getElementById("incident-form");
  const pad = (n) => String(n).padStart(2, "0");

  function now() {
    const d = new Date();
    const when = form.querySelector("#occurred_at");
    when.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    form.querySelector("#utc_offset").value = String(-d.getTimezoneOffset());
  }

  if (form) {
    now();
    const status = document.getElementById("locate-status");
    document.getElementById("locate").addEventListener("click", () => {
      if (!navigator.geolocation) {
        status.textContent = status.dataset.none || "–";
        return;
      }
      status.textContent = "…";
      navigator.geolocation.getCurrentPosition(
        (p) => {
          form.querySelector("#lat").value = p.coords.latitude.toFixed(6);
          form.querySelector("#lon").value = p.coords.longitude.toFixed(6);
          status.textContent = `± ${Math.round(p.coords.accuracy)} m`;
        },
        (e) => { status.textContent = e.message; },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
      );
    });
    form.addEventListener("htmx:beforeRequest", (e) => {
      if (e.detail.elt === form) corridorForms.clear(form);
    });
    form.addEventListener("htmx:afterRequest", (e) => {
      if (e.detail.elt !== form) return;
      if (e.detail.xhr.status === 201) {
        form.reset();
        now();
        draw();
        return;
      }
      corridorForms.mark(form);
    });
    // Without a network the report and its files are kept on this phone and sent later.
    if (window.corridorOutbox) {
      corridorOutbox.attach(form, "incident", (said) => {
        form.reset();
        now();
        const note = document.createElement("p");
        note.className = "alert warn";
        note.id = "incident-kept";
        note.textContent = said;
        document.getElementById("incident-result").replaceChildren(note);
      });
    }
  }

  // The map: markers coloured by kind; tiles only when the server names a tile source.
  const box = document.getElementById("incident-map");
  // Leaflet puts a string tooltip in as HTML: names and places typed by people go in as text.
  function plain(text) {
    const span = document.createElement("span");
    span.dir = "auto";
    span.textContent = text;
    return span;
  }
  let map = null;
  let layer = null;
  function draw() {
    const data = document.getElementById("incident-points");
    if (!box || !data || !window.L) return;
    const points = JSON.parse(data.textContent);
    const route = JSON.parse(document.getElementById("route-points").textContent);
    const shown = points.length + route.length > 0;
    box.hidden = !shown;
    document.getElementById("map-empty").hidden = points.length > 0;
    if (!shown) return;
    if (!map) {
      map = L.map(box, { attributionControl: Boolean(box.dataset.tiles), zoomControl: false });
      // The zoom buttons in the page's language (Leaflet's own titles are English).
      L.control.zoom({ zoomInTitle: box.dataset.zoomIn, zoomOutTitle: box.dataset.zoomOut }).addTo(map);
      if (box.dataset.tiles) L.tileLayer(box.dataset.tiles, { maxZoom: 19 }).addTo(map);
      layer = L.layerGroup().addTo(map);
    }
    layer.clearLayers();
    const colour = (kind) => getComputedStyle(document.documentElement).getPropertyValue(`--incident-${kind}`).trim() || "#444";
    const bounds = route.map((r) => [r.lat, r.lon]);
    if (route.length > 1) layer.addLayer(L.polyline(bounds, { color: "#0b4f8a", weight: 3, dashArray: "6 4" }));
    for (const r of route) {
      layer.addLayer(L.circleMarker([r.lat, r.lon], { radius: 5, color: "#0b4f8a", fillColor: "#fff", fillOpacity: 1 }).bindTooltip(plain(r.name)));
    }
    for (const p of points) {
      const marker = L.circleMarker([p.lat, p.lon], { radius: 8, color: "#000", weight: 1, fillColor: colour(p.kind), fillOpacity: 0.9 });
      const label = document.querySelector(`[data-incident="${p.id}"] .badge`);
      marker.bindTooltip(plain(`${label ? label.textContent : p.kind} · ${p.when} ${p.place}`));
      marker.on("click", () => {
        const item = document.querySelector(`li[data-incident="${p.id}"]`);
        if (item) item.scrollIntoView({ block: "center" });
      });
      layer.addLayer(marker);
      bounds.push([p.lat, p.lon]);
    }
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14 });
  }
  draw();

  // A photo is read (a custody event in the ledger) only when its preview is opened.
  document.addEventListener("toggle", (e) => {
    const img = e.target.matches && e.target.matches("details.preview[open]") && e.target.querySelector("img[data-src]");
    if (img && !img.src) img.src = img.dataset.src;
  }, true);
})();
