// A file over the server's size limit is named beside its field as soon as it is chosen,
// before anything is sent (the server refuses it too: sitroom/core/uploads.py).
(function () {
  "use strict";
  function check(input) {
    const max = Number(input.dataset.maxBytes);
    const big = Array.from(input.files || []).some(function (f) { return f.size > max; });
    input.setCustomValidity(big ? input.dataset.tooLarge : "");
    if (big) input.reportValidity();
  }
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.type === "file" && input.dataset.maxBytes) {
      check(input);
    }
  });
})();
