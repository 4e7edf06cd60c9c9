/* Live journal stream shared by every page: SitroomLive.connect(onEntry).
   Reads #live-config ({url, past, strings}) and keeps #live-status up to date. The
   browser resumes from Last-Event-ID by itself after a drop. */
window.SitroomLive = (function () {
  "use strict";
  function connect(onEntry) {
    var cfgEl = document.getElementById("live-config");
    if (!cfgEl || !window.EventSource) { return null; }
    var cfg = JSON.parse(cfgEl.textContent);
    var status = document.getElementById("live-status");
    if (cfg.past) { return null; }
    var source = new EventSource(cfg.url);
    function show(state, text) {
      if (!status) { return; }
      status.textContent = text;
      status.dataset.state = state;
      status.className = "mode " + state;
    }
    source.onopen = function () { show("live", cfg.strings.live); };
    source.onerror = function () { show("reconnecting", cfg.strings.reconnecting); };
    source.addEventListener("entry", function (ev) { onEntry(JSON.parse(ev.data)); });
    return source;
  }
  return { connect: connect };
})();
