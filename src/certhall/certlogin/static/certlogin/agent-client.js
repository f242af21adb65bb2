// The transport both certificate-helper pages use (certificate login, online renewal): calls to
// the helper on 127.0.0.1 (CORS, no cookies) and CSRF-protected JSON posts to this site.
// Answers come back as {status, data}; the helper's errors carry {error: {message}}, the site's
// {message}.
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
