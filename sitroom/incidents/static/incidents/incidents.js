/* Incident pages: the clustered incident map, click-to-place on the form, live refresh. */
(function () {
  "use strict";

  // Severity colours and words, as the list shows them: one definition (choices.py),
  // given with the page.
  var paletteEl = document.getElementById("incident-palette");
  var palette = paletteEl ? JSON.parse(paletteEl.textContent) : { severity: {} };
  function severity(value) {
    return palette.severity[String(value)] || { fill: "#90a4ae", label: String(value) };
  }

  // A map with the regions' outlines, fitted to them; `map.outlined` settles once they
  // are drawn (or could not be), so what is drawn on it is laid out once, not twice.
  function baseMap(el) {
    var map = L.map(el, { zoomSnap: 0.5 });
    map.setView([48.0, 67.0], 4);
    map.outlined = fetch(el.dataset.areasUrl + "?level=region", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        var polygons = fc.features.filter(function (f) { return f.geometry.type !== "Point"; });
        if (!polygons.length) { return; }
        var layer = L.geoJSON({ type: "FeatureCollection", features: polygons }, {
          style: { color: "#607d8b", weight: 1, fillOpacity: 0.05 }, interactive: false,
        }).addTo(map);
        window.SitroomMaps.credit(map, fc);  // CC BY: credited wherever drawn
        if (!el.dataset.keepView) { map.fitBounds(layer.getBounds(), { animate: false }); }
      })
      .catch(function () { /* the outlines are a backdrop: the map works without them */ });
    return map;
  }

  // --- The incident map: server-side grid aggregation, so it stays fast at any size ----
  var mapEl = document.getElementById("incident-map");
  if (mapEl) {
    var map = baseMap(mapEl);
    var cells = L.layerGroup().addTo(map);
    var pending = null;
    // Cells whose circles would overlap on the screen are drawn as one circle: their
    // counts added, the highest severity, at their incidents' centre. A small circle
    // never hides a larger one's count, and no two counts are printed over each other.
    var radiusOf = function (count) {
      return count === 1 ? 6 : Math.min(30, 8 + 4 * Math.log2(count));
    };
    var groupCells = function (rows) {
      var groups = rows.slice().sort(function (a, b) { return b.count - a.count; })
        .map(function (c) {
          return { count: c.count, severity: c.severity, at: map.latLngToLayerPoint([c.lat, c.lon]),
                   bounds: L.latLngBounds([[c.lat, c.lon], [c.lat, c.lon]]) };
        });
      var merged = true;
      while (merged) {  // a grown circle may reach another: until none overlap
        merged = false;
        for (var i = 0; i < groups.length; i++) {
          for (var j = i + 1; j < groups.length; j++) {
            var a = groups[i], b = groups[j];
            if (a.at.distanceTo(b.at) >= radiusOf(a.count) + radiusOf(b.count) + 1) { continue; }
            var n = a.count + b.count;
            a.at = a.at.multiplyBy(a.count / n).add(b.at.multiplyBy(b.count / n));
            a.count = n;
            a.severity = Math.max(a.severity, b.severity);
            a.bounds.extend(b.bounds);
            groups.splice(j, 1);
            merged = true;
            j = i;  // compare the grown circle with the rest again
          }
        }
      }
      return groups;
    };
    var loadCells = function () {
      var zoom = map.getZoom();
      var cell = Math.max(0.0005, 360 / Math.pow(2, zoom + 4));
      var b = map.getBounds();
      // The server gives the list's filters as the map API takes them, times already
      // read in the deployment's zone: the browser's own zone plays no part.
      var params = new URLSearchParams(mapEl.dataset.query || "");
      params.set("cell", String(cell));
      params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
        .map(function (v) { return Math.max(-180, Math.min(180, v)).toFixed(4); }).join(","));
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch(mapEl.dataset.cellsUrl + "?" + params.toString(),
            { credentials: "same-origin", signal: pending.signal })
        .then(function (r) { return r.json(); })
        .then(function (rows) {
          cells.clearLayers();
          var total = 0;
          groupCells(rows).forEach(function (g) {
            total += g.count;
            var sev = severity(g.severity);
            var at = map.layerPointToLatLng(g.at);
            var marker = L.circleMarker(at, {
              radius: radiusOf(g.count), color: "#263238", weight: 1, fillColor: sev.fill,
              fillOpacity: 0.9, className: "incident-cell sev-" + g.severity,
            });
            if (g.count > 1) {
              // The count in the ink that reads on the circle's colour, as on the badges.
              marker.bindTooltip(String(g.count), { permanent: true, direction: "center",
                                                    className: "cell-count ink-" + g.severity });
            } else {
              marker.bindTooltip(sev.label);  // the words, not the colour alone
            }
            marker.on("click", function () {
              var b = g.bounds;
              if (b.getNorthEast().equals(b.getSouthWest())) {
                map.setView(at, Math.min(map.getZoom() + 2, 17));
              } else {
                map.fitBounds(b.pad(0.5), { maxZoom: 17 });
              }
            });
            marker.addTo(cells);
          });
          mapEl.dataset.cells = String(rows.length);
          mapEl.dataset.total = String(total);
          mapEl.dataset.zoom = String(map.getZoom());
          mapEl.dataset.ready = "true";
        })
        .catch(function (err) { if (err.name !== "AbortError") { mapEl.dataset.error = String(err); } });
    };
    map.outlined.then(function () {
      map.on("moveend", loadCells);
      loadCells();
    });

    // A filter change (or a live refresh) swaps the list; its new query drives the map.
    document.body.addEventListener("htmx:afterSwap", function () {
      var list = document.getElementById("incident-list");
      if (!list || list.dataset.mapQuery === undefined) { return; }
      if (list.dataset.mapQuery !== mapEl.dataset.query) {
        mapEl.dataset.query = list.dataset.mapQuery;
        mapEl.dataset.ready = "false";
        loadCells();
      }
    });

    if (window.SitroomLive) {
      window.SitroomLive.connect(function (entry) {
        if (entry.kind !== "incident") { return; }
        loadCells();  // the same query: new incidents may have arrived
        if (window.htmx) {
          window.htmx.ajax("GET", window.location.href, { target: "#incident-list", swap: "outerHTML" });
        }
      });
    }
  }

  // --- The list's selection: select all on the page, and how many are selected --------
  var selectedIds = function () {
    return Array.prototype.map.call(
      document.querySelectorAll("#incident-list input[name=ids]:checked"),
      function (box) { return box.value; });
  };
  var showSelection = function () {
    var boxes = document.querySelectorAll("#incident-list input[name=ids]");
    var n = selectedIds().length;
    var all = document.getElementById("select-all");
    if (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
    var out = document.getElementById("bulk-selected");
    if (out) {
      out.textContent = out.dataset.template.replace("{n}", String(n))
        .replace("{total}", String(boxes.length));
      out.dataset.count = String(n);
    }
  };
  document.addEventListener("change", function (ev) {
    var target = ev.target;
    if (target.id === "select-all") {
      document.querySelectorAll("#incident-list input[name=ids]").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.id === "select-all" || target.name === "ids") { showSelection(); }
  });
  // A live refresh (or a filter change) redraws the list: what was ticked stays ticked
  // where it is still listed, so an officer's selection is not lost under their hand.
  var keptSelection = [];
  document.addEventListener("htmx:beforeSwap", function (ev) {
    if (ev.detail.target && ev.detail.target.id === "incident-list") { keptSelection = selectedIds(); }
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (!ev.detail.target || !document.getElementById("incident-list")) { return; }
    keptSelection.forEach(function (id) {
      var box = document.querySelector("#incident-list input[name=ids][value='" + id + "']");
      if (box) { box.checked = true; }
    });
    keptSelection = [];
    showSelection();
  });

  // --- One incident's page: where it happened ----------------------------------------
  var whereEl = document.getElementById("incident-where");
  if (whereEl) {
    var at = [parseFloat(whereEl.dataset.lat), parseFloat(whereEl.dataset.lon)];
    var whereMap = baseMap(whereEl);
    whereMap.setView(at, 10);
    var whereMarker = L.circleMarker(at, { radius: 8, color: "#263238", weight: 2,
                                           fillOpacity: 0.9 }).addTo(whereMap);
    var showSeverity = function (value) {
      whereMarker.setStyle({ fillColor: severity(value).fill });
      whereMarker.unbindTooltip().bindTooltip(severity(value).label);
    };
    showSeverity(whereEl.dataset.severity);
    whereEl.dataset.ready = "true";
    // Someone moved the incident or changed its severity: the marker follows, live.
    document.addEventListener("sitroom:refreshed", function (ev) {
      var fresh = ev.detail.doc.getElementById("incident-where");
      if (!fresh) { return; }
      ["lat", "lon", "severity"].forEach(function (k) { whereEl.dataset[k] = fresh.dataset[k]; });
      var to = [parseFloat(fresh.dataset.lat), parseFloat(fresh.dataset.lon)];
      whereMarker.setLatLng(to);
      whereMap.panTo(to);
      showSeverity(fresh.dataset.severity);
      whereEl.setAttribute("aria-label", fresh.getAttribute("aria-label"));
    });
  }

  // --- Click the map to place an incident ------------------------------------------
  var placeEl = document.getElementById("place-map");
  if (placeEl) {
    var lat = document.getElementById("id_lat"), lon = document.getElementById("id_lon");
    var placeMap = baseMap(placeEl);
    var marker = null;
    var put = function (latlng) {
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(placeMap); }
    };
    if (lat.value && lon.value) {
      placeEl.dataset.keepView = "1";
      put([parseFloat(lat.value), parseFloat(lon.value)]);
      placeMap.setView([parseFloat(lat.value), parseFloat(lon.value)], 11);
    }
    placeMap.on("click", function (ev) {
      lat.value = ev.latlng.lat.toFixed(5);
      lon.value = ev.latlng.lng.toFixed(5);
      put(ev.latlng);
      var area = document.getElementById("id_area");
      if (area) { area.value = ""; }
    });
    placeEl.dataset.ready = "true";
  }
})();
