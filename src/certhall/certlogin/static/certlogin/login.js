// certhall certificate login. Talks to the certificate helper on 127.0.0.1 (list certificates,
// ask for a signature) and to this site (challenge, verify). The PIN is typed into the
// helper's own window: this page never sees it.
(function () {
  "use strict";
  var root = document.getElementById("certlogin");
  if (!root) { return; }
  var agent = root.getAttribute("data-agent");
  var list = document.getElementById("cert-list");
  var agentStatus = document.getElementById("agent-status");
  var loginButton = document.getElementById("login-button");
  var changePinButton = document.getElementById("change-pin-button");
  var refreshButton = document.getElementById("refresh-button");
  var message = document.getElementById("login-message");
  var pinLink = document.getElementById("pin-link");
  var pinLinkA = document.getElementById("pin-link-a");
  var unlockHint = document.getElementById("unlock-hint");
  var selected = null;
  var selectedToken = null;
  var locked = {}; // token serial -> PIN locked, as the helper reported it
  var busy = false;
  var current = null; // {id, state}
  var pin = window.certhallPinWindow(pinLink, pinLinkA, 700);
  var show = window.certhallNotice(root);
  var say = window.certhallWords;

  var client = window.certhallAgent(agent);
  var callAgent = client.callAgent;
  var postAgent = client.postAgent;
  var postSite = client.postSite;
  var agentError = client.agentError;

  // The Shenzhen date (UTC+8, no daylight saving) of the helper's UTC time, as the hall's
  // pages show it: the UTC date was a day early from 00:00 to 07:59.
  function day(iso) {
    var t = Date.parse(iso || "");
    if (isNaN(t)) { return (iso || "").slice(0, 10); }
    return new Date(t + 8 * 3600 * 1000).toISOString().slice(0, 10);
  }

  function render(data) {
    list.textContent = "";
    selected = null;
    var tokens = data.tokens || [];
    var certs = data.certificates || [];
    if (!tokens.length) {
      show(agentStatus, say("login_page_no_ukey"), "error");
    } else if (!certs.length) {
      show(agentStatus, say("login_page_no_certificate"), "error");
    } else {
      show(agentStatus, say("login_page_choose"), "ok");
    }
    locked = {};
    tokens.forEach(function (t) { locked[t.serial] = t.pin_locked; });
    var now = new Date().toISOString();
    certs.forEach(function (cert, index) {
      var item = document.createElement("label");
      item.className = "cert-item";
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "certificate";
      radio.value = cert.id;
      radio.setAttribute("data-serial", cert.serial);
      radio.addEventListener("change", function () {
        selected = cert.id;
        selectedToken = cert.token.serial;
        update();
      });
      var text = document.createElement("span");
      var title = document.createElement("strong");
      title.textContent = cert.subject_cn;
      var detail = document.createElement("small");
      var expired = cert.not_after < now;
      detail.textContent = say("page_label.certificate", {
        issuer: cert.issuer_cn, serial: cert.serial, not_before: day(cert.not_before),
        not_after: day(cert.not_after), ukey: cert.token.label
      }) + (expired ? say("page_label.expired") : "") +
        (locked[cert.token.serial] ? say("page_label.pin_locked") : "");
      text.appendChild(title);
      text.appendChild(document.createElement("br"));
      text.appendChild(detail);
      item.appendChild(radio);
      item.appendChild(text);
      list.appendChild(item);
      if (index === 0) { radio.checked = true; selected = cert.id; selectedToken = cert.token.serial; }
    });
    update();
  }

  function update() {
    loginButton.disabled = busy || !selected;
    changePinButton.disabled = busy || !selected;
    unlockHint.hidden = !(selected && locked[selectedToken]);
  }

  function loadCertificates() {
    show(agentStatus, say("helper_reading"), "");
    return callAgent("/v1/certificates").then(function (answer) {
      if (answer.status !== 200) {
        show(agentStatus, agentError(answer, say("helper_refused")), "error");
        return;
      }
      render(answer.data);
    }, function () {
      list.textContent = "";
      selected = null;
      update();
      show(agentStatus, say("login_page_no_helper"), "error");
    });
  }

  function finish(text, kind) {
    busy = false;
    current = null;
    pin.close();
    update();
    if (text) { show(message, text, kind || "error"); }
  }


  function poll(request, version) {
    callAgent("/v1/requests/" + request.id + "?after=" + version + "&wait=20").then(function (answer) {
      if (current !== request) { return; }
      if (answer.status !== 200) {
        finish(agentError(answer, say("helper_failed")));
        return;
      }
      var data = answer.data;
      request.state = data.state;
      if (data.state === "waiting_pin" || data.state === "working" || data.state === "must_change") {
        if (data.state === "must_change") {
          show(message, say("login_page_must_change"), "");
        } else if (data.error) {
          show(message, data.error.message, "error");
        } else if (data.state === "working") {
          show(message, say("login_page_working"), "");
        }
        poll(request, data.version);
      } else if (data.state === "done" && request.op === "change_pin") {
        finish(say("login_page_pin_changed"), "ok");
      } else if (data.state === "done") {
        submit(data.result);
      } else {
        if (data.error && /^pin_locked/.test(data.error.code || "")) {
          locked[selectedToken] = true; // locked just now: the way out is the unlock business
        }
        finish(data.error ? data.error.message : say("helper_cancelled"));
      }
    }, function () {
      if (current === request) { finish(say("helper_lost")); }
    });
  }

  function submit(result) {
    show(message, say("login_page_verifying"), "");
    postSite("/login/certificate/verify", {
      certificate: result.certificate,
      chain: result.chain,
      signature: result.signature,
      signed_origin: result.signed_origin
    }).then(function (answer) {
      if (answer.status === 200 && answer.data.ok) {
        show(message, say("login_page_entering"), "ok");
        window.location.assign(answer.data.redirect);
        return;
      }
      // the words are the catalogue's Chinese; the code stays out of them, for support only
      message.setAttribute("data-error", answer.data.error || "");
      finish(answer.data.message || say("login_page_failed"));
    }, function () { finish(say("helper_site_down")); });
  }


  function startRequest(op, body) {
    body.op = op;
    body.certificate = selected;
    return postAgent("/v1/requests", body).then(function (answer) {
      if (answer.status !== 201) {
        finish(agentError(answer, say("helper_refused")));
        return;
      }
      var request = { id: answer.data.id, state: answer.data.state, op: op };
      current = request;
      pin.show(answer.data.pin_url);
      show(message, op === "change_pin" ? say("login_page_asking_pins")
        : say("helper_asking_pin"), "");
      pin.watch(function () { return current === request; }, function () {
        return request.state === "waiting_pin" || request.state === "must_change";
      }, function () { postAgent("/v1/requests/" + request.id + "/cancel", { asking_only: true }); });
      poll(request, answer.data.version);
    }, function () {
      finish(say("helper_missing"));
    });
  }

  loginButton.addEventListener("click", function () {
    if (!selected || busy) { return; }
    busy = true;
    update();
    show(message, say("login_page_preparing"), "");
    pin.open();  // now, in the click: browsers block pop-ups opened later
    postSite("/login/certificate/challenge", {}).then(function (answer) {
      if (answer.status !== 200) {
        finish(answer.data.message || say("login_page_no_challenge"));
        return;
      }
      startRequest("login", { challenge: answer.data.challenge });
    }, function () { finish(say("helper_site_down")); });
  });

  changePinButton.addEventListener("click", function () {
    if (!selected || busy) { return; }
    busy = true;
    update();
    pin.open();  // now, in the click: browsers block pop-ups opened later
    startRequest("change_pin", {});
  });

  refreshButton.addEventListener("click", function () { loadCertificates(); });
  loadCertificates();
})();
