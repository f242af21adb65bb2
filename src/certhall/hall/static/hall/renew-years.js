// 证书续期: the card below the lookup (续期年限, 续期费用, 提交续期申请) is the quote for the term
// it was asked for, and 提交续期申请 sends that term. A term chosen afterwards in 续期年限 above
// is quoted at once (the lookup form sent again), so that the term submitted is the one the
// field shows: before, the field said 3年 · 450.00 元 while the button sent the 1 year quoted.
(function () {
  "use strict";
  var field = document.getElementById("years");
  if (!field || !field.form || !document.getElementById("renew-form")) { return; }
  field.addEventListener("change", function () { field.form.submit(); });
})();
