// A page's send-code button refused by a sending limit (accounts.codes: one code a minute per
// phone, every purpose's codes counted together): the page gives the wait in seconds on the button
// (data-code-wait, the refusal's Retry-After), and the button counts it down, disabled, then
// comes back with its own words. Typing another phone number (data-code-wait-field names the
// field) ends the wait at once: the limit is the phone's, not the page's. Without this script
// the button stays as it was and the refusal beside the form says the wait.
(function () {
  "use strict";
  var say = window.certhallWords;

  function words(seconds) {
    // as ratelimit.wait_text: seconds under two minutes, then whole minutes rounded up
    if (seconds < 120) { return say("page_label.code_wait_seconds", { seconds: seconds }); }
    return say("page_label.code_wait_minutes", { minutes: Math.ceil(seconds / 60) });
  }

  function countDown(button) {
    var left = parseInt(button.getAttribute("data-code-wait"), 10);
    if (!(left > 0)) { return; }
    var label = button.textContent;
    var field = document.getElementById(button.getAttribute("data-code-wait-field") || "");
    var typed = field ? field.value : null;
    var timer = null;
    function done() {
      window.clearInterval(timer);
      button.disabled = false;
      button.textContent = label;
      button.removeAttribute("data-code-wait");
    }
    function show() {
      if (left <= 0) { done(); return; }
      button.textContent = words(left);
      left -= 1;
    }
    button.disabled = true;
    show();
    timer = window.setInterval(show, 1000);
    if (field) {
      field.addEventListener("input", function () {
        if (field.value !== typed && button.disabled) { done(); }
      });
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-code-wait]"), countDown);
})();
