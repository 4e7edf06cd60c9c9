/* What every map of the product shares, loaded right after Leaflet (web/leaflet.html):
   Leaflet's own words (the zoom buttons, its credit) in the reader's language, and the
   credit of the boundary outlines a map draws. */
(function () {
  "use strict";
  // Text made safe to put in a popup's or tooltip's HTML.
  function text(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  window.SitroomMaps = { text: text };
  if (!window.L) { return; }
  var strings = JSON.parse((document.getElementById("map-strings") || {}).textContent || "{}");

  if (strings.zoomIn) { L.Control.Zoom.prototype.options.zoomInTitle = strings.zoomIn; }
  if (strings.zoomOut) { L.Control.Zoom.prototype.options.zoomOutTitle = strings.zoomOut; }
  if (strings.library) {
    var prefix = L.Control.Attribution.prototype.options.prefix;
    if (typeof prefix === "string") {
      L.Control.Attribution.prototype.options.prefix =
        prefix.replace(/title="[^"]*"/, 'title="' + text(strings.library).replace(/"/g, "&quot;") + '"');
    }
  }

  // The outlines' source and licence (CC BY: the credit goes wherever they are drawn),
  // in the map's corner, as plain text.
  window.SitroomMaps.credit = function (map, fc) {
    if (fc && fc.attribution && map.attributionControl) {
      map.attributionControl.addAttribution(text(fc.attribution));
    }
  };
})();
