// The renewal page: the card below the lookup (term, fee, the submit button) is the quote for
// the term it was asked for, and its button sends that term. A term chosen afterwards in the
// lookup's term field (#years) is quoted at once (the lookup form sent again), so that the term
// submitted is the one the field shows: before, the field said 3 years and 450.00 yuan while
// the button sent the 1 year quoted.
(function () {
  "use strict";
  var field = document.getElementById("years");
  if (!field || !field.form || !document.getElementById("renew-form")) { return; }
  field.addEventListener("change", function () { field.form.submit(); });
})();
