// A page that waits for something done elsewhere (the handler's real-name check on a phone):
// its element with data-watch holds what the page shows now (a state); every 5 s the page is
// fetched again in the background and reloaded only when that value changed. A <meta refresh>
// reloaded it every 5 s whatever happened, moving a screen reader back to the top and failing
// WCAG 2.2.1 (axe-core: meta-refresh, docs/portal.md "Accessibility check").
(function () {
  "use strict";
  var watched = document.querySelector("[data-watch]");
  if (!watched || !window.fetch || !window.DOMParser) { return; }
  var EVERY_MS = 5000;
  function look() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { window.setTimeout(look, EVERY_MS); return; }
        var now = new DOMParser().parseFromString(html, "text/html").querySelector("[data-watch]");
        if (!now || now.getAttribute("data-watch") !== watched.getAttribute("data-watch")) {
          window.location.reload();
        } else {
          window.setTimeout(look, EVERY_MS);
        }
      })
      .catch(function () { window.setTimeout(look, EVERY_MS); });
  }
  window.setTimeout(look, EVERY_MS);
})();
