// certhall certificate helper: the PIN window. PINs are posted to this helper only (same
// origin, http://127.0.0.1:PORT) and go to the Ukey; the web page never sees them.
// Two forms: #pin-form (the PIN, for a login or renewal) and #change-form (a new PIN twice,
// with the old one when the user asked to change it; alone when the Ukey demands a change).
(function () {
  "use strict";
  var body = document.body;
  var requestId = body.getAttribute("data-request");
  var formToken = body.getAttribute("data-form-token");
  var form = document.getElementById("pin-form") || document.getElementById("change-form");
  if (!requestId || !form) { return; }
  var changing = form.id === "change-form";
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input"));
  var submit = document.getElementById("submit");
  var cancel = document.getElementById("cancel");
  var message = document.getElementById("message");
  var say = window.certhallWords;

  function show(text, kind) {
    message.textContent = text;
    message.className = "message" + (kind ? " " + kind : "");
  }

  function disable() {
    inputs.forEach(function (input) { input.disabled = true; });
    submit.disabled = true;
    cancel.textContent = say("page_label.close");
  }

  function clear() { inputs.forEach(function (input) { input.value = ""; }); }

  function finish(text) {
    show(text, "ok");
    disable();
    setTimeout(function () { window.close(); }, 800);
  }

  function post(path, payload) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return {}; });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var payload = { form_token: formToken };
    var empty = inputs.filter(function (input) { return !input.value; });
    if (empty.length) { show(say("pin_page_empty"), "error"); empty[0].focus(); return; }
    inputs.forEach(function (input) { payload[input.name] = input.value; });
    if (changing && payload.new_pin !== payload.new_pin_again) {
      show(say("agent_pin_mismatch"), "error");
      return;
    }
    clear();
    submit.disabled = true;
    show(say(changing ? "pin_page_changing" : "pin_page_signing"), "");
    var path = "/pin/" + requestId + (changing ? "/change" : "");
    post(path, payload).then(function (data) {
      payload = null;
      if (data.state === "done") {
        var changed = changing && data.op === "change_pin";
        finish(say(changed ? "pin_page_changed" : "pin_page_done"));
        return;
      }
      if (data.state === "must_change" && !changing) { window.location.reload(); return; }
      var error = data.error || {};
      show(error.message || say("pin_page_failed"), "error");
      if (data.state === "waiting_pin" || data.state === "must_change" || !data.state) {
        submit.disabled = false;
        inputs[0].focus();
      } else {
        disable();
      }
    }, function () {
      submit.disabled = false;
      show(say("pin_page_no_helper"), "error");
    });
  });

  cancel.addEventListener("click", function () {
    if (submit.disabled && inputs[0].disabled) { window.close(); return; }
    post("/pin/" + requestId + "/cancel", { form_token: formToken }).then(function () {
      window.close();
    }, function () { window.close(); });
  });
})();
