// The transport both certificate-helper pages use (certificate login, online renewal): calls to
// the helper on 127.0.0.1 (CORS, no cookies) and CSRF-protected JSON posts to this site.
// Answers come back as {status, data}; the helper's errors carry {error: {message}}, the site's
// {message}. And the helper's PIN window, which both pages open the same way.
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function asJson(response) {
    return response.json().catch(function () { return {}; }).then(function (data) {
      return { status: response.status, data: data };
    });
  }

  // The helper's PIN window: opened in the click (browsers block pop-ups opened later), sent to
  // the request's pin_url, or, when the browser blocked it, a link (linkBox, link) to open it by
  // hand; closed when the request ends. Closing it while the PIN is asked for cancels the
  // request (watch), so the page does not wait for the helper's timeout. The window closes
  // itself 800 ms after the PIN is done, before the page may have heard so: the pages' cancel
  // asks the helper to cancel only a request still waiting for its PIN (asking_only).
  window.certhallPinWindow = function (linkBox, link, height) {
    var popup = null;
    return {
      open: function () {
        popup = window.open("", "certhall-pin", "popup=yes,width=480,height=" + height);
        // an empty window until the helper's page loads: its title bar read about:blank, its
        // page nothing; the customer reads Chinese from the first moment (the helper's own
        // window, already open on its page, is another origin's: left as it is)
        try {
          if (popup && popup.location.href === "about:blank") {
            popup.document.documentElement.lang = "zh-CN";
            popup.document.title = window.certhallWords("page_label.helper");
            popup.document.body.textContent = window.certhallWords("helper_connecting");
          }
        } catch (error) { /* the helper's page, another origin */ }
      },
      show: function (url) {
        if (popup && !popup.closed) { popup.location.href = url; return; }
        link.href = url;
        linkBox.hidden = false;
      },
      close: function () {
        linkBox.hidden = true;
        if (popup && !popup.closed) { popup.close(); }
        popup = null;
      },
      watch: function (current, askingPin, cancel) {
        var closedSince = 0;
        var timer = setInterval(function () {
          if (!current()) { clearInterval(timer); return; }
          if (popup && popup.closed && askingPin()) {
            closedSince = closedSince || Date.now();
            if (Date.now() - closedSince > 1500) { clearInterval(timer); cancel(); }
          }
        }, 500);
      }
    };
  };

  // A page's line of news: show(element, text, kind) writes text into a .notice of level kind.
  // The words come from the helper or the server (their JSON answers): always text, never HTML;
  // the catalogue's words for customer service (messages.common.CONTACT_US) become a link to the
  // contact page, as the pages' refusals show it (contact_linked), from the words, page and link
  // text the page's root carries ({% contact_data %}), built with DOM nodes.
  window.certhallNotice = function (root) {
    var words = root.getAttribute("data-contact");
    var url = root.getAttribute("data-contact-url");
    var linkText = root.getAttribute("data-contact-link");
    return function (element, text, kind) {
      element.textContent = "";
      var parts = words ? String(text || "").split(words) : [String(text || "")];
      parts.forEach(function (part, index) {
        if (index > 0) {
          var link = document.createElement("a");
          link.href = url;
          link.className = "contact-us";
          link.textContent = linkText;
          element.appendChild(link);
        }
        if (part) { element.appendChild(document.createTextNode(part)); }
      });
      element.className = "notice" + (kind ? " " + kind : "");
    };
  };

  window.certhallAgent = function (agent) {
    function callAgent(path, options) {
      var init = options || {};
      init.mode = "cors";
      init.cache = "no-store";
      init.credentials = "omit";
      return fetch(agent + path, init).then(asJson);
    }
    return {
      callAgent: callAgent,
      postAgent: function (path, body) {
        return callAgent(path, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body || {})
        });
      },
      postSite: function (path, body) {
        return fetch(path, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-CSRFToken": csrfToken()
          },
          body: JSON.stringify(body || {})
        }).then(asJson);
      },
      agentError: function (answer, fallback) {
        var error = answer && answer.data && answer.data.error;
        if (error && typeof error === "object" && error.message) { return error.message; }
        return fallback;
      }
    };
  };
})();
