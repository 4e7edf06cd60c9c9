/* Lifelines board: cell links carry the component; live refresh on new reports. */
(function () {
  "use strict";
  function wire() {
    var codes = JSON.parse((document.getElementById("lifeline-components") || {}).textContent || "[]");
    document.querySelectorAll("#lifelines td[data-component] a[data-cell]").forEach(function (a) {
      var code = codes[parseInt(a.parentElement.dataset.component, 10)];
      a.href = a.getAttribute("href").replace(/_\/$/, code + "/");
    });
  }
  wire();
  document.body.addEventListener("htmx:afterSwap", wire);
  if (window.SitroomLive) {
    window.SitroomLive.connect(function (entry) {
      if (entry.kind !== "lifeline" || !window.htmx) { return; }
      window.htmx.ajax("GET", window.location.href, { target: "#lifeline-board", swap: "outerHTML" });
    });
  }
})();
