/* Force board: the map of guarded sites (guarded / handed over / GAP) and airfields, and
   the live refresh of the board when a force journal entry arrives. */
(function () {
  "use strict";
  var COLOURS = { guarded: "#1565c0", handed: "#2e7d32", gap: "#c62828" };
  var strings = JSON.parse((document.getElementById("force-strings") || {}).textContent || "{}");
  var mapEl = document.getElementById("force-map");
  var map = null, layer = null, sitePoints = [], cities = [];  // sitePoints: fitted to, once

  // The sites and airfields, with the whole of any city holding one; room on the right
  // for the airfields' names.
  function fit() {
    if (!sitePoints.length) { return; }
    var bounds = L.latLngBounds(sitePoints);
    cities.forEach(function (b) { if (b.intersects(bounds)) { bounds.extend(b); } });
    map.fitBounds(bounds, { paddingTopLeft: [30, 30], paddingBottomRight: [150, 30], maxZoom: 12, animate: false });
  }

  var text = window.SitroomMaps.text;  // web/maps.js, loaded before this

  function draw() {
    if (!map) { return; }
    var dataEl = document.getElementById("force-map-data");
    if (!dataEl) { return; }
    var data = JSON.parse(dataEl.textContent);
    layer.clearLayers();
    var points = [];
    data.airfields.forEach(function (a) {
      // two or three airfields: named on the map, not only on hover
      L.marker([a.lat, a.lon], { title: a.name, icon: L.divIcon({ className: "airfield-icon", html: "✈", iconSize: [24, 24] }) }).addTo(layer)
        .bindTooltip(text(a.name), { permanent: true, direction: "right", offset: [12, 0], className: "airfield-label" });
      points.push([a.lat, a.lon]);
    });
    // Sites at one point (a coordinate shared by several sites: known only to the city)
    // are one marker listing them all, drawn above the airfield icons.
    var RANK = { gap: 3, guarded: 2, handed: 1 };
    var groups = {};
    data.sites.forEach(function (s) {
      var key = s.lat.toFixed(5) + "," + s.lon.toFixed(5);
      (groups[key] = groups[key] || []).push(s);
    });
    Object.keys(groups).forEach(function (key) {
      var group = groups[key], first = group[0];
      var state = group.reduce(function (w, s) { return (RANK[s.state] || 0) > (RANK[w] || 0) ? s.state : w; }, first.state);
      var gap = state === "gap";
      var popup = group.map(function (s) {
        var name = s.url ? '<a href="' + text(encodeURI(s.url)) + '">' + text(s.name) + "</a>" : text(s.name);
        return "<strong>" + name + "</strong><br>" + text(strings[s.state] || s.state) +
          "<br>" + text(strings.by || "") + " " + text(s.unit) +
          (s.relief ? "<br>" + text(strings.relief || "") + ": " + text(s.relief) : "");
      }).join("<hr>");
      L.circleMarker([first.lat, first.lon], {
        pane: "sites", radius: (gap ? 11 : 8) + (group.length > 1 ? 3 : 0),
        color: gap ? "#7f0000" : "#263238", weight: gap ? 3 : 1,
        fillColor: COLOURS[state] || "#607d8b", fillOpacity: 0.85,
        className: "site-marker site-" + state
      }).addTo(layer).bindPopup(popup);
      if (group.length > 1) {
        L.marker([first.lat, first.lon], { pane: "sites", icon: L.divIcon({ className: "site-count", html: String(group.length), iconSize: [16, 16] }), interactive: false }).addTo(layer);
      }
      if (gap) {
        L.marker([first.lat, first.lon], { pane: "sites", icon: L.divIcon({ className: "gap-label", html: text(strings.gap || "GAP"), iconSize: [34, 16], iconAnchor: [-8, 8] }), interactive: false }).addTo(layer);
      }
      points.push([first.lat, first.lon]);
    });
    if (!sitePoints.length && points.length) { sitePoints = points; fit(); }
    mapEl.dataset.sites = String(data.sites.length);
    mapEl.dataset.gaps = String(data.sites.filter(function (s) { return s.state === "gap"; }).length);
  }

  if (mapEl && window.L) {
    map = L.map(mapEl, { zoomSnap: 0.5 });
    map.createPane("sites").style.zIndex = 650;  // above the airfield icons (600)
    map.setView([43.25, 76.95], 10);
    layer = L.layerGroup().addTo(map);
    // Where the sites are: the outlines of the regions, cities and districts (a district's
    // name on hover; a city's printed under it), credited as their licence asks.
    fetch(mapEl.dataset.areasUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        var polygons = fc.features.filter(function (f) { return f.geometry.type !== "Point"; });
        L.geoJSON({ type: "FeatureCollection", features: polygons }, {
          style: function (f) {
            var district = f.properties.level === "district";
            return { color: "#607d8b", weight: district ? 0.8 : 1.5, dashArray: district ? "4 3" : null,
                     fillOpacity: 0.04 };
          },
          onEachFeature: function (f, shape) {
            if (f.properties.level === "district") {
              shape.bindTooltip(text(f.properties.label), { sticky: true, className: "area-label" });
            } else if (f.properties.level === "city") {
              // under the city, not in its middle where the sites are
              var b = shape.getBounds();
              cities.push(b);
              L.tooltip({ permanent: true, direction: "bottom", className: "area-label area-label-city" })
                .setLatLng([b.getSouth(), b.getCenter().lng])
                .setContent(text(f.properties.label)).addTo(map);
            }
          }
        }).addTo(map).bringToBack();
        fit();
        window.SitroomMaps.credit(map, fc);
        mapEl.dataset.outlined = "true";
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
