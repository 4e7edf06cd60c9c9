/* The common operating picture: map of areas and places, live journal stream. */
(function () {
  "use strict";
  var mapEl = document.getElementById("map");
  var config = JSON.parse(mapEl.dataset.config || "{}");
  var lang = (config.language || "en").slice(0, 2);

  function nameOf(props) {
    return (lang === "ru" && props.name_ru) || (lang === "kk" && props.name_kk) || props.name;
  }
  function activityClass(n) { return n >= 5 ? "act2" : n >= 1 ? "act1" : "act0"; }
  var FILL = { act0: "#cfd8dc", act1: "#ffb74d", act2: "#e53935" };

  var map = L.map(mapEl, { zoomSnap: 0.25, attributionControl: true });
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution || "" }).addTo(map);
  }
  map.setView([48.0, 67.0], 4);
  var areaLayers = {};   // code -> layer
  var areaProps = {};    // code -> properties

  function styleFor(props) {
    var district = props.level === "district";
    return {
      className: "area area-" + props.level + " area-code-" + props.code,
      color: district ? "#37474f" : "#263238",
      weight: district ? 1 : 1.5,
      fillColor: FILL[activityClass(props.recent_entries)],
      fillOpacity: district ? 0.55 : 0.45,
    };
  }
  function tooltipFor(props) {
    var t = nameOf(props);
    // No break between the name and its count, should the label wrap.
    if (props.recent_entries) { t += "\u00a0·\u00a0" + props.recent_entries; }
    return t;
  }

  // Standing labels that would print over one another: the busier area's is kept (then
  // the larger unit's), the other shows while the pointer is on its area. Laid out again
  // at each zoom and whenever a count changes a label's width.
  var LEVEL_RANK = { region: 0, city: 1, district: 2 };
  function declutter() {
    var labels = [];
    Object.keys(areaLayers).forEach(function (code) {
      var tip = areaLayers[code].getTooltip();
      var el = tip && tip.options.permanent && tip.getElement();
      if (!el) { return; }
      el.classList.remove("label-hidden");
      labels.push({ el: el, p: areaProps[code] });
    });
    labels.sort(function (a, b) {
      return (b.p.recent_entries || 0) - (a.p.recent_entries || 0) ||
        LEVEL_RANK[a.p.level] - LEVEL_RANK[b.p.level];
    });
    var kept = [];
    labels.forEach(function (label) {
      var r = label.el.getBoundingClientRect();
      var clash = kept.some(function (k) {
        return r.left < k.right && k.left < r.right && r.top < k.bottom && k.top < r.bottom;
      });
      if (clash) { label.el.classList.add("label-hidden"); } else { kept.push(r); }
    });
    mapEl.dataset.labelsHidden = String(labels.length - kept.length);
  }
  function peek(layer, on) {
    var tip = layer.getTooltip();
    var el = tip && tip.getElement();
    if (el) { el.classList.toggle("label-peek", on); }
  }

  function url(base, extra) {
    var params = new URLSearchParams();
    if (config.asOf) { params.set("as_of", config.asOf); }
    Object.keys(extra || {}).forEach(function (k) { params.set(k, extra[k]); });
    var q = params.toString();
    return q ? base + "?" + q : base;
  }

  Promise.all([
    fetch(url(mapEl.dataset.areasUrl), { credentials: "same-origin" }).then(function (r) { return r.json(); }),
    fetch(mapEl.dataset.placesUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }),
  ]).then(function (results) {
    var areas = results[0], places = results[1];
    // Draw countries first, districts last, so smaller units sit on top.
    var order = { country: 0, region: 1, city: 2, district: 3 };
    areas.features.sort(function (a, b) { return order[a.properties.level] - order[b.properties.level]; });
    var shown = L.featureGroup().addTo(map);
    var polygons = 0;
    areas.features.forEach(function (f) {
      var p = f.properties;
      areaProps[p.code] = p;
      var layer;
      if (f.geometry.type === "Point") {
        if (p.level === "country") { return; }
        layer = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]],
          Object.assign(styleFor(p), { radius: 7, fillOpacity: 0.9 }));
        layer.bindTooltip(tooltipFor(p), { permanent: p.level !== "district", direction: "right",
                                           className: "area-label label-of-" + p.code });
      } else {
        if (p.level === "country") { return; }
        layer = L.geoJSON(f, { style: function () { return styleFor(p); } });
        // Regions and cities carry a standing label; districts show theirs on hover.
        layer.bindTooltip(tooltipFor(p), p.level === "district" ? { sticky: true }
          : { permanent: true, direction: "center",
              className: "area-label area-label-" + p.level + " label-of-" + p.code });
        polygons += 1;
      }
      layer.bindPopup(function () {
        var pr = areaProps[p.code];
        var el = document.createElement("div");
        var h = document.createElement("strong"); h.textContent = nameOf(pr); el.appendChild(h);
        var s = document.createElement("div");
        s.textContent = (mapEl.dataset.recentLabel || "") + pr.recent_entries;
        el.appendChild(s);
        var a = document.createElement("a");
        a.href = "?area=" + encodeURIComponent(pr.code) + (config.asOf ? "&as_of=" + encodeURIComponent(document.getElementById("id_as_of_control").value) : "");
        a.textContent = "→ " + nameOf(pr);
        el.appendChild(a);
        return el;
      });
      layer.on("mouseover", function () { peek(layer, true); });
      layer.on("mouseout", function () { peek(layer, false); });
      layer.addTo(shown);
      areaLayers[p.code] = layer;
    });
    places.features.forEach(function (f) {
      var p = f.properties;
      L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
        radius: 5, color: "#0d47a1", weight: 2, fillColor: "#42a5f5", fillOpacity: 0.9,
        className: "place place-" + p.code,
      }).bindTooltip(p.label + " (" + p.kind_label + ")" + (p.estimate ? " ≈" : "")).addTo(map);
    });
    if (shown.getLayers().length) {
      map.fitBounds(shown.getBounds(), { padding: [10, 10], animate: false });
    }
    declutter();
    map.on("zoomend", declutter);
    if (areas.attribution) { document.getElementById("map-attribution").textContent = areas.attribution; }
    mapEl.dataset.areas = String(Object.keys(areaLayers).length);
    mapEl.dataset.polygons = String(polygons);
    mapEl.dataset.ready = "true";
  }).catch(function (err) {
    mapEl.dataset.error = String(err);
  });

  function bumpArea(code) {
    var p = areaProps[code];
    if (!p) { return; }
    p.recent_entries = (p.recent_entries || 0) + 1;
    var layer = areaLayers[code];
    layer.setStyle(styleFor(p));
    if (layer.setTooltipContent) {
      layer.setTooltipContent(tooltipFor(p));
      declutter();
    }
  }

  // The count above the timeline, as the server words it in the reader's language: asked
  // again (the count alone, for the filters shown) a moment after entries arrive.
  var countTimer = null;
  function refreshCount() {
    if (countTimer) { return; }
    countTimer = setTimeout(function () {
      countTimer = null;
      var timeline = document.getElementById("timeline");
      if (!timeline || !timeline.dataset.url) { return; }
      fetch(timeline.dataset.url + "&part=count", {headers: {"HX-Request": "true"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (text) {
          if (text === null) { return; }
          var fresh = new DOMParser().parseFromString(text, "text/html")
            .getElementById("timeline-count");
          var count = document.getElementById("timeline-count");
          if (fresh && count) { count.innerHTML = fresh.innerHTML; }
        });
    }, 500);
  }

  // Live journal: server-sent events (see live.js), filtered on the server by the
  // timeline's filters; the search text is checked here against the box as it reads now.
  var live = window.SitroomLive.connect(function (data) {
    if (document.getElementById("entry-" + data.seq)) { return; }
    var q = (document.getElementById("id_q") || {}).value;
    if (q && data.summary.toLowerCase().indexOf(q.toLowerCase()) < 0) { return; }
    var list = document.getElementById("timeline-list");
    if (!list) { return; }
    if (data.area) { bumpArea(data.area); }
    refreshCount();
    var timeline = document.getElementById("timeline");
    if (timeline && Number(timeline.dataset.page || 1) > 1) {
      // An older page: the new entry belongs on the first; say so instead.
      var newer = document.getElementById("newer-entries");
      if (newer) { newer.hidden = false; }
      return;
    }
    var empty = list.querySelector(".empty");
    if (empty) { empty.remove(); }
    var tpl = document.createElement("template");
    tpl.innerHTML = data.html.trim();
    var node = tpl.content.firstElementChild;
    node.classList.add("fresh");
    list.insertBefore(node, list.firstChild);
  });

  // A filter changed on the page swaps the timeline in place (htmx): the stream moves to
  // the filters it now shows, resuming right after the newest entry it was rendered with.
  var timeline = document.getElementById("timeline");
  var liveFilters = timeline ? timeline.dataset.liveFilters : undefined;
  document.body.addEventListener("htmx:afterSwap", function () {
    var fresh = document.getElementById("timeline");
    if (!live || !fresh || fresh.dataset.liveFilters === undefined) { return; }
    if (fresh.dataset.liveFilters === liveFilters) { return; }
    liveFilters = fresh.dataset.liveFilters;
    var base = live.url.split("?")[0];
    live.follow(base + "?" + (liveFilters ? liveFilters + "&" : "") + "after=" +
                encodeURIComponent(fresh.dataset.liveAfter));
  });
})();
