// A page that waits for something done elsewhere (the handler's real-name check on a phone, a
// gateway's notification of a payment): its element with data-watch holds what the page shows
// now (a state); every 5 s the page is fetched again in the background and reloaded only when
// that value changed. With data-watch-looks="N" and data-watch-then="URL" it stops after N
// looks and opens URL (the page that says the wait is long). A <meta refresh> or a Refresh
// header reloaded it every few seconds whatever happened, moving a screen reader back to the
// top and failing WCAG 2.2.1 (axe-core: meta-refresh, docs/portal.md "Accessibility check").
(function () {
  "use strict";
  var watched = document.querySelector("[data-watch]");
  if (!watched || !window.fetch || !window.DOMParser) { return; }
  var EVERY_MS = 5000;
  var looks = parseInt(watched.getAttribute("data-watch-looks") || "0", 10);
  var then = watched.getAttribute("data-watch-then");
  var limited = looks > 0 && then;
  function look() {
    if (limited) {
      looks -= 1;
      if (looks < 0) { window.location.replace(then); return; }
    }
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
