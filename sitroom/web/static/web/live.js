/* Live journal stream shared by every page: SitroomLive.connect(onEntry).
   Reads #live-config ({url, past, strings}) and keeps #live-status up to date. The
   browser resumes from Last-Event-ID by itself after a drop. connect() answers a
   connection whose follow(url) moves it to another address (a page whose filters
   changed in place): the old stream is closed and nothing it still had is delivered. */
window.SitroomLive = (function () {
  "use strict";
  function connect(onEntry) {
    var cfgEl = document.getElementById("live-config");
    if (!cfgEl || !window.EventSource) { return null; }
    var cfg = JSON.parse(cfgEl.textContent);
    var status = document.getElementById("live-status");
    if (cfg.past) { return null; }
    function show(state, text) {
      if (!status) { return; }
      status.textContent = text;
      status.dataset.state = state;
      status.className = "mode " + state;
    }
    var conn = { url: null, source: null };
    conn.follow = function (url) {
      if (conn.source) { conn.source.close(); }
      var source = new EventSource(url);
      conn.url = url;
      conn.source = source;
      source.onopen = function () { show("live", cfg.strings.live); };
      source.onerror = function () { show("reconnecting", cfg.strings.reconnecting); };
      source.addEventListener("entry", function (ev) {
        if (conn.source === source) { onEntry(JSON.parse(ev.data)); }
      });
      return source;
    };
    conn.follow(cfg.url);
    return conn;
  }
  /* Keep parts of a server-rendered page current: every element with
     data-live-kinds="incident posture …" (and, optionally, data-live-subject="<id>")
     is re-read from the page's own URL when an entry of one of those kinds (about that
     subject) arrives; bursts are folded into one fetch. Then "sitroom:refreshed" is
     dispatched on the document with the fresh page ({detail: {doc}}). */
  function refreshParts() {
    var parts = document.querySelectorAll("[data-live-kinds][id]");
    if (!parts.length) { return null; }
    var timer = null;
    function reload() {
      timer = null;
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (text) {
          if (!text) { return; }
          var doc = new DOMParser().parseFromString(text, "text/html");
          parts.forEach(function (el) {
            var fresh = doc.getElementById(el.id);
            if (fresh) { el.innerHTML = fresh.innerHTML; el.dataset.refreshed = String(Date.now()); }
          });
          // What is not plain HTML (a map) follows from the fresh page through this event.
          document.dispatchEvent(new CustomEvent("sitroom:refreshed", { detail: { doc: doc } }));
        });
    }
    return connect(function (entry) {
      var wanted = false;
      parts.forEach(function (el) {
        var kinds = el.dataset.liveKinds.split(" ");
        var subject = el.dataset.liveSubject;
        if (kinds.indexOf(entry.kind) >= 0 && (!subject || subject === entry.subject)) { wanted = true; }
      });
      if (wanted && !timer) { timer = setTimeout(reload, 300); }
    });
  }
  var api = { connect: connect, refreshParts: refreshParts };
  refreshParts();
  return api;
})();
