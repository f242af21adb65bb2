// The certificate status page's serial field is a textarea, so that a long serial wraps in sight instead of
// scrolling inside a one-line input: Enter looks the serial up as it did in the input (not a
// new line), and where the browser cannot size the field to its value (no CSS field-sizing)
// the field grows with it. Without this script a line break typed is dropped by the lookup.
(function () {
  "use strict";
  var field = document.getElementById("serial");
  if (!field || field.tagName !== "TEXTAREA") { return; }
  field.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing || event.shiftKey) { return; }
    event.preventDefault();
    if (field.form.reportValidity()) { field.form.submit(); }
  });
  if (window.CSS && CSS.supports && CSS.supports("field-sizing", "content")) { return; }
  function fit() {
    field.style.height = "auto";
    field.style.height = field.scrollHeight + 2 + "px";
  }
  field.addEventListener("input", fit);
  fit();
})();
