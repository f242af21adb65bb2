// <span class="file-pick"> (web/_file_input.html): the chosen file's name beside the 选择文件
// button, in place of the native control's own words, which follow the browser's language.
// Also for a file chosen before this script ran (a slow page) or kept by the browser's back.
(function () {
  "use strict";
  function show(input) {
    var pick = input && input.type === "file" ? input.parentNode : null;
    if (!pick || !pick.classList || !pick.classList.contains("file-pick")) { return; }
    var shown = pick.querySelector(".file-pick-name");
    var files = input.files;
    shown.textContent = files && files.length ? files[0].name : shown.getAttribute("data-empty");
  }
  document.addEventListener("change", function (event) { show(event.target); });
  Array.prototype.forEach.call(document.querySelectorAll(".file-pick input[type=file]"), show);
})();
