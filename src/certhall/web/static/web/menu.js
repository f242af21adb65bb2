// The header's menu on a narrow screen: a button that says whether the links are shown
// (aria-expanded), in place of the checkbox and label that fold them without script (the
// page's fallback, kept in web/base.html: the same look, but its state is a checkbox's).
// Escape closes the open menu and gives the focus back to the button.
(function () {
  "use strict";
  var toggle = document.getElementById("nav-toggle");
  var button = document.getElementById("nav-button");
  var nav = document.getElementById("site-nav");
  if (!toggle || !button || !nav) { return; }
  var label = document.querySelector('label[for="nav-toggle"]');
  var open = toggle.checked;  // a browser that kept the box ticked going back
  toggle.remove();
  if (label) { label.remove(); }

  function show(opened) {
    open = opened;
    button.setAttribute("aria-expanded", opened ? "true" : "false");
    nav.classList.toggle("open", opened);
  }

  button.hidden = false;
  show(open);
  button.addEventListener("click", function () { show(!open); });
  document.addEventListener("keydown", function (event) {
    if (open && event.key === "Escape") {
      show(false);
      button.focus();
    }
  });
})();
