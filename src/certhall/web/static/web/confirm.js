// Forms that ask before they submit: <form data-confirm="question">. An inline onsubmit handler
// would do the same, but the Content-Security-Policy forbids inline script (docs/security.md).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute ? form.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
