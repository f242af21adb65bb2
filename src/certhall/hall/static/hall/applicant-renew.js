// The online hall's renewal: the new certificate onto the Ukey through the certificate helper on 127.0.0.1 (the same approach and the
// same transport, certlogin/agent-client.js, as the certificate login page). The PIN is typed into the helper's own window;
// this page never sees it. Steps: find the old certificate on the Ukey -> helper request
// "renew" (new key + CSR, signed by the old key) -> POST the request to the hall
// (/api/hall/applications/<n>/renewal) -> the helper writes the new certificate -> the hall
// revokes the old one (/renewal/installed) -> the helper removes the old key.
(function () {
  "use strict";
  var root = document.getElementById("renew-panel");
  if (!root) { return; }
  var agent = root.getAttribute("data-agent");
  var number = root.getAttribute("data-number");
  var serial = root.getAttribute("data-serial");
  var years = parseInt(root.getAttribute("data-years"), 10) || 1;
  var status = document.getElementById("agent-status");
  var message = document.getElementById("renew-message");
  var button = document.getElementById("renew-button");
  var pinLink = document.getElementById("pin-link");
  var pinLinkA = document.getElementById("pin-link-a");
  var certificate = null;
  var busy = false;
  var current = null;  // the helper's request under way
  var api = "/api/hall/applications/" + encodeURIComponent(number);

  var show = window.certhallNotice(root);
  var say = window.certhallWords;
  var client = window.certhallAgent(agent);
  var pin = window.certhallPinWindow(pinLink, pinLinkA, 660);
  var callAgent = client.callAgent;
  var postAgent = client.postAgent;
  var postSite = client.postSite;
  var agentError = client.agentError;
  function siteError(answer, fallback) {
    return (answer && answer.data && answer.data.message) || fallback;
  }
  function plain(hex) { return String(hex || "").toLowerCase().replace(/^0+/, ""); }

  function finish(text, kind) {
    busy = false;
    current = null;
    pin.close();
    button.disabled = !certificate;
    show(message, text, kind || "error");
  }

  function find() {
    show(status, say("helper_reading"), "");
    return callAgent("/v1/certificates").then(function (answer) {
      if (answer.status !== 200) {
        show(status, agentError(answer, say("helper_refused")), "error");
        return;
      }
      var certs = answer.data.certificates || [];
      certificate = null;
      certs.forEach(function (cert) {
        if (plain(cert.serial) === plain(serial)) { certificate = cert; }
      });
      if (certificate) {
        show(status, say("renew_page_found", { serial: serial, ukey: certificate.token.label }), "ok");
      } else {
        show(status, say("renew_page_not_on_ukey", { serial: serial }), "error");
      }
      button.disabled = busy || !certificate;
    }, function () {
      show(status, say("renew_page_no_helper"), "error");
    });
  }

  function poll(request, version) {
    callAgent("/v1/requests/" + request.id + "?after=" + version + "&wait=20").then(function (answer) {
      if (answer.status !== 200) { finish(agentError(answer, say("helper_failed"))); return; }
      var data = answer.data;
      request.state = data.state;
      if (data.state === "waiting_pin" || data.state === "working" || data.state === "must_change") {
        if (data.state === "must_change") {
          show(message, say("renew_page_must_change"), "");
        } else if (data.error) { show(message, data.error.message, "error"); }
        else if (data.state === "working") { show(message, say("renew_page_working"), ""); }
        poll(request, data.version);
      } else if (data.state === "done") {
        issue(request, data.result);
      } else {
        finish(data.error ? data.error.message : say("helper_cancelled"));
      }
    }, function () { finish(say("helper_lost")); });
  }

  // A failed fetch says which side went away: this site, or the helper on this computer. Once
  // the new certificate is issued a retry continues where it stopped (nothing is paid twice).
  var SITE_DOWN = say("helper_site_down");
  var HELPER_LOST = say("renew_page_helper_lost");
  var SITE_LOST = say("renew_page_site_lost");
  function unreachable(text) {
    return function () { return { status: 0, data: {}, unreachable: text }; };
  }

  // Once the site has issued the new certificate the application's state says so: the page's
  // state, steps, next action and history are read again from the site (one source for their
  // words), since a lost helper stops here with the page not reloaded.
  function refreshProgress() {
    return fetch(window.location.href, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      if (!html) { return; }
      var fresh = new DOMParser().parseFromString(html, "text/html");
      ["application-state", "next-action", "history"].forEach(function (id) {
        var now = document.getElementById(id);
        var then = fresh.getElementById(id);
        if (now && then) { now.replaceWith(document.importNode(then, true)); }
      });
      var path = document.querySelector("#progress ol.path");
      var freshPath = fresh.querySelector("#progress ol.path");
      if (path && freshPath) { path.replaceWith(document.importNode(freshPath, true)); }
    }, function () { /* the site unreachable: the message already says what to do */ });
  }

  function issue(request, result) {
    show(message, say("renew_page_issuing"), "");
    postSite(api + "/renewal", {
      csr: result.csr, signature: result.signature, origin: result.signed_origin
    }).then(null, unreachable(SITE_DOWN)).then(function (answer) {
      if (answer.unreachable) { finish(answer.unreachable); return null; }
      if (answer.status !== 200 || !answer.data.new_certificate_der_b64) {
        finish(siteError(answer, say("renew_page_issue_failed")));
        return null;
      }
      show(message, say("renew_page_installing"), "");
      refreshProgress();
      return postAgent("/v1/requests/" + request.id + "/install", {
        certificate: answer.data.new_certificate_der_b64, chain: answer.data.chain_der_b64 || []
      }).then(null, unreachable(HELPER_LOST));
    }).then(function (answer) {
      if (!answer) { return null; }
      if (answer.unreachable) { finish(answer.unreachable); return null; }
      if (answer.status !== 200) { finish(agentError(answer, say("renew_page_install_failed"))); return null; }
      return postSite(api + "/renewal/installed", {}).then(null, unreachable(SITE_LOST));
    }).then(function (answer) {
      if (!answer) { return null; }
      if (answer.unreachable) { finish(answer.unreachable); return null; }
      if (answer.status !== 200) { finish(siteError(answer, say("renew_page_confirm_failed"))); return null; }
      return postAgent("/v1/requests/" + request.id + "/finish", {}).then(function () { return true; },
        function () { return true; });
    }).then(function (done) {
      if (!done) { return; }
      finish(say("renew_page_done"), "ok");
      setTimeout(function () { window.location.reload(); }, 1200);
    });
  }

  button.addEventListener("click", function () {
    if (!certificate || busy) { return; }
    busy = true;
    button.disabled = true;
    show(message, say("renew_page_preparing"), "");
    pin.open();  // now, in the click: browsers block pop-ups opened later
    postAgent("/v1/requests", { op: "renew", certificate: certificate.id, years: years }).then(function (answer) {
      if (answer.status !== 201) { finish(agentError(answer, say("helper_refused"))); return; }
      var request = { id: answer.data.id, state: answer.data.state };
      current = request;
      pin.show(answer.data.pin_url);
      show(message, say("helper_asking_pin"), "");
      pin.watch(function () { return current === request; }, function () {
        return request.state === "waiting_pin" || request.state === "must_change";
      }, function () { postAgent("/v1/requests/" + request.id + "/cancel", { asking_only: true }); });
      poll(request, answer.data.version);
    }, function () { finish(say("helper_missing")); });
  });

  find();
})();
