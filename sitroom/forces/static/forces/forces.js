/* Force board: the map of guarded sites (guarded / handed over / GAP) and airfields, and
   the live refresh of the board when a force journal entry arrives. */
(function () {
  "use strict";
  var COLOURS = { guarded: "#1565c0", handed: "#2e7d32", gap: "#c62828" };
  var strings = JSON.parse((document.getElementById("force-strings") || {}).textContent || "{}");
  var mapEl = document.getElementById("force-map");
  var map = null, layer = null, fitted = false;

  function text(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }

  function draw() {
    if (!map) { return; }
    var dataEl = document.getElementById("force-map-data");
    if (!dataEl) { return; }
    var data = JSON.parse(dataEl.textContent);
    layer.clearLayers();
    var points = [];
    data.airfields.forEach(function (a) {
      L.marker([a.lat, a.lon], { title: a.name, icon: L.divIcon({ className: "airfield-icon", html: "✈", iconSize: [24, 24] }) }).addTo(layer)
        .bindTooltip("✈ " + text(a.name), { permanent: false });
      points.push([a.lat, a.lon]);
    });
    data.sites.forEach(function (s) {
      var gap = s.state === "gap";
      L.circleMarker([s.lat, s.lon], {
        radius: gap ? 11 : 8, color: gap ? "#7f0000" : "#263238", weight: gap ? 3 : 1,
        fillColor: COLOURS[s.state] || "#607d8b", fillOpacity: 0.85,
        className: "site-marker site-" + s.state
      }).addTo(layer).bindPopup(
        "<strong>" + text(s.name) + "</strong><br>" + text(strings[s.state] || s.state) +
        "<br>" + text(strings.by || "") + " " + text(s.unit) +
        (s.relief ? "<br>" + text(strings.relief || "") + ": " + text(s.relief) : ""));
      if (gap) {
        L.marker([s.lat, s.lon], { icon: L.divIcon({ className: "gap-label", html: text(strings.gap || "GAP"), iconSize: [34, 16], iconAnchor: [-8, 8] }), interactive: false }).addTo(layer);
      }
      points.push([s.lat, s.lon]);
    });
    if (!fitted && points.length) { map.fitBounds(points, { padding: [30, 30], maxZoom: 12 }); fitted = true; }
    mapEl.dataset.sites = String(data.sites.length);
    mapEl.dataset.gaps = String(data.sites.filter(function (s) { return s.state === "gap"; }).length);
  }

  if (mapEl && window.L) {
    map = L.map(mapEl, { zoomSnap: 0.5 });
    map.setView([43.25, 76.95], 10);
    layer = L.layerGroup().addTo(map);
    fetch(mapEl.dataset.areasUrl + "?level=region", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        var polygons = fc.features.filter(function (f) { return f.geometry.type !== "Point"; });
        L.geoJSON({ type: "FeatureCollection", features: polygons }, {
          style: { color: "#607d8b", weight: 1, fillOpacity: 0.04 }, interactive: false
        }).addTo(map).bringToBack();
      }).catch(function () { /* outlines are decoration */ });
    draw();
  }
  document.body.addEventListener("htmx:afterSwap", draw);

  if (window.SitroomLive) {
    var pending = null;
    window.SitroomLive.connect(function (entry) {
      if (entry.kind !== "force" || !window.htmx) { return; }
      if (pending) { clearTimeout(pending); }
      pending = setTimeout(function () {
        pending = null;
        window.htmx.ajax("GET", window.location.href, { target: "#force-board", swap: "outerHTML" });
      }, 200);
    });
  }
})();
