// corridor: the operation's map. Draws the layers of map.geojson with Leaflet (no tile server
// needed: roads, places, closures and routes come from the scenario itself). The layer list
// beside the map is both the legend and the switch for each layer.
"use strict";
(function () {
  var box = document.getElementById("map");
  if (!box || !window.L) return;
  var text = JSON.parse(document.getElementById("map-text").textContent);
  var status = document.getElementById("map-status");
  var notice = document.getElementById("map-notice");
  var list = document.getElementById("map-layers");
  var dir = document.documentElement.dir;

  // Colours (contrast >= 3:1 against the pale map background for lines and marks).
  var STYLE = {
    roads: { color: "#8a8a8a", weight: 1, interactive: false },
    hazards: { color: "#a10d0d", weight: 2, fillColor: "#e74c3c", fillOpacity: 0.25, dashArray: "6 4" },
    routes: { color: "#b03a2e", opacity: 0.55 },
    gathering: { color: "#fff", weight: 2, fillColor: "#1f4e79", fillOpacity: 1 },
    checkpoints: { color: "#fff", weight: 2, fillColor: "#b35300", fillOpacity: 1 },
    reception: { color: "#fff", weight: 2, fillColor: "#1e7a44", fillOpacity: 1 },
    // A ring, drawn around whatever stands at the same node (a checkpoint, a reception point).
    route_points: { color: "#6c3483", weight: 3, fill: false },
    vehicles: { color: "#fff", weight: 2, fillColor: "#111", fillOpacity: 1 },
    incidents: { color: "#fff", weight: 2, fillColor: "#7b241c", fillOpacity: 1 },
  };
  var ORDER = ["roads", "routes", "hazards", "gathering", "checkpoints", "reception",
    "route_points", "vehicles", "incidents"];

  function when(iso) {
    // "2016-12-16T04:00:00+02:00" -> "2016-12-16 04:00 +02:00": the scenario's own clock.
    if (!iso) return "–";
    return iso.slice(0, 10) + " " + iso.slice(11, 16) + " " + (iso.slice(19) || "UTC");
  }

  function popup(lines) {
    var div = document.createElement("div");
    div.dir = dir;
    lines.forEach(function (line, i) {
      var p = document.createElement(i === 0 ? "strong" : "div");
      p.textContent = line;
      div.appendChild(p);
    });
    return div;
  }

  var DESCRIBE = {
    gathering: function (p) {
      return [p.node, text.people + ": " + p.people].concat(p.sources.map(function (s) {
        return s.id + " (" + s.group + "): " + s.people;
      }));
    },
    checkpoints: function (p) { return [p.id, text.per_hour + ": " + p.people_per_hour]; },
    reception: function (p) {
      return [p.id, text.capacity + ": " + (p.capacity === null ? text.unlimited : p.capacity)];
    },
    hazards: function (p) {
      var span = p.start || p.end ? text.from + " " + when(p.start) + " " + text.until + " " + when(p.end) : text.always;
      return [p.id, p.reason, span];
    },
    routes: function (p) {
      var groups = Object.keys(p.groups).map(function (g) { return g + ": " + p.groups[g]; }).join(", ");
      return [p.from + " → " + p.to, text.people + ": " + p.people + " (" + groups + ")",
        text.departures + ": " + when(p.first_departure) + " – " + when(p.last_departure)];
    },
    route_points: function (p) { return [p.name, p.id + " · " + p.kind, text.placed_by + ": " + (text.placed[p.placed_by] || p.placed_by)]; },
    vehicles: function (p) {
      return [p.point].concat(p.vehicles.map(function (v) {
        return v.id + ": " + (text.statuses[v.status] || v.status) + " (" + text.seen + " " + when(v.seen_at) + ")";
      }));
    },
    incidents: function (p) { return [p.kind, when(p.occurred_at), p.place || ""]; },
  };

  function layerOf(name, data, maxPeople) {
    var style = STYLE[name];
    return L.geoJSON(data, {
      style: function (f) {
        if (name === "routes") {
          return L.extend({ weight: 2 + 8 * f.properties.people / maxPeople }, style);
        }
        if (name === "hazards" && f.geometry.type === "LineString") {
          return { color: "#111", weight: 4, dashArray: "6 6" };
        }
        return style;
      },
      pointToLayer: function (f, at) {
        if (name === "hazards") {
          // A closed place: a dashed ring around it.
          return L.circleMarker(at, { radius: 17, color: "#a10d0d", weight: 3, dashArray: "4 4", fill: false });
        }
        if (name === "route_points") return L.circleMarker(at, L.extend({ radius: 13 }, style));
        var radius = name === "gathering" ? 7 + Math.min(8, Math.sqrt(f.properties.people) / 8)
          : name === "vehicles" ? 6 + Math.min(6, f.properties.vehicles.length) : 8;
        return L.circleMarker(at, L.extend({ radius: radius }, style));
      },
      onEachFeature: function (f, layer) {
        if (DESCRIBE[name]) layer.bindPopup(popup(DESCRIBE[name](f.properties)));
      },
    });
  }

  function toggle(map, name, layer, count) {
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.checked = true;
    box.id = "layer-" + name;
    box.addEventListener("change", function () {
      if (box.checked) map.addLayer(layer); else map.removeLayer(layer);
    });
    var swatch = document.createElement("span");
    swatch.className = "swatch swatch-" + name;
    swatch.setAttribute("aria-hidden", "true");
    label.appendChild(box);
    label.appendChild(swatch);
    label.appendChild(document.createTextNode(text.layers[name] + (count === null ? "" : " (" + count + ")")));
    list.appendChild(label);
  }

  // Leaflet's own controls: name them in the page's language.
  function labelControls() {
    var zin = box.querySelector(".leaflet-control-zoom-in");
    var zout = box.querySelector(".leaflet-control-zoom-out");
    if (zin) { zin.setAttribute("aria-label", text.zoom_in); zin.title = text.zoom_in; }
    if (zout) { zout.setAttribute("aria-label", text.zoom_out); zout.title = text.zoom_out; }
  }

  function draw(data) {
    var planar = data.crs !== "EPSG:4326";
    var map = L.map(box, { crs: planar ? L.CRS.Simple : L.CRS.EPSG3857, attributionControl: !!box.dataset.tiles });
    labelControls();
    map.on("popupopen", function (e) {
      var close = e.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) close.setAttribute("aria-label", text.close);
    });
    if (box.dataset.tiles && !planar) {
      var tiles = L.tileLayer(box.dataset.tiles, { maxZoom: 19 }).addTo(map);
      toggle(map, "tiles", tiles, null);
    }
    var routes = (data.layers.routes || { features: [] }).features;
    var maxPeople = Math.max.apply(null, [1].concat(routes.map(function (f) { return f.properties.people; })));
    var all = L.featureGroup();
    var drawn = {};
    ORDER.forEach(function (name) {
      var found = data.layers[name];
      if (!found || !found.features.length) return;
      var layer = layerOf(name, found, maxPeople).addTo(map);
      all.addLayer(layer);
      drawn[name] = found.features.length;
      var count = name === "roads" ? null : name === "vehicles"
        ? found.features.reduce(function (n, f) { return n + f.properties.vehicles.length; }, 0)
        : found.features.length;
      toggle(map, name, layer, count);
    });
    var bounds = all.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
    else map.setView([0, 0], planar ? 0 : 2);
    if (data.notice) { notice.textContent = data.notice; notice.hidden = false; }
    var plan = data.plan ? " " + (data.plan.published ? text.published : text.computed) : "";
    status.textContent = (Object.keys(drawn).length ? text.loaded : text.empty) + plan;
    box.dataset.layers = Object.keys(drawn).join(" ");
    box.dataset.ready = "yes";
  }

  fetch(box.dataset.source, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(draw)
    .catch(function () { status.textContent = text.failed; box.dataset.ready = "failed"; });
})();
