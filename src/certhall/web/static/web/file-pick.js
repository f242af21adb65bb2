// <span class="file-pick"> (web/_file_input.html): the chosen file's name beside the button
// that chooses it, in place of the native control's own words, which follow the browser's language.
// Also for a file chosen before this script ran (a slow page) or kept by the browser's back.
//
// A photo input (data-photo-max, the server's limit in bytes; data-photo-pixels and
// data-photo-side, its bounds in pixels and on a side): a phone's camera makes 4-12 MB JPEGs and
// the phone cannot shrink them, so a JPEG or PNG over the limit or over the bounds is drawn
// again on a canvas, LONGEST px at most, as a JPEG of QUALITY (less, then smaller, until it is
// under the limit), and the input holds that file instead. A photo within them goes as chosen
// (12-07): drawn again, a damaged photo became a clean JPEG of its grey parts, and the server,
// which refuses a damaged one (its decoder's warnings), never saw the original. A browser
// without createImageBitmap, canvas.toBlob or DataTransfer keeps the original, which the server
// then refuses in Chinese when it is too big. A photo over the limit that the browser cannot
// decode (cut short) is not sent: the page says so and undoes the choice (12-07, night; the
// server only said it was too big). A form sent while its photo is being made smaller waits
// for it.
(function () {
  "use strict";
  var say = window.certhallWords;
  var LONGEST = 2000;
  var QUALITY = 0.85;
  // (scale of LONGEST, quality) tried in turn until the photo is under the limit
  var TRIES = [[1, QUALITY], [1, 0.7], [0.75, 0.7], [0.5, 0.7]];

  function pickOf(input) {
    var pick = input && input.type === "file" ? input.parentNode : null;
    return pick && pick.classList && pick.classList.contains("file-pick") ? pick : null;
  }

  function show(input) {
    var pick = pickOf(input);
    if (!pick) { return; }
    var shown = pick.querySelector(".file-pick-name");
    var files = input.files;
    shown.textContent = files && files.length ? files[0].name : shown.getAttribute("data-empty");
  }

  // a line under the control saying what is being done with the photo, or was (none: gone)
  function note(input, words) {
    var pick = pickOf(input);
    if (!pick) { return; }
    var line = pick.nextElementSibling;
    if (!line || !line.classList.contains("file-pick-note")) {
      if (!words) { return; }
      line = document.createElement("span");
      line.className = "file-pick-note";
      line.setAttribute("role", "status");
      pick.parentNode.insertBefore(line, pick.nextSibling);
    }
    line.textContent = words || "";
    line.hidden = !words;
  }

  function megabytes(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

  function canShrink() {
    return typeof window.createImageBitmap === "function" && typeof window.DataTransfer === "function" &&
      !!HTMLCanvasElement.prototype.toBlob && typeof window.Promise === "function";
  }

  function decode(file) {
    // the camera's orientation (EXIF) applied, where the browser knows the option
    return window.createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
      return window.createImageBitmap(file);
    });
  }

  function encode(bitmap, scale, quality) {
    var longest = Math.max(bitmap.width, bitmap.height);
    var ratio = Math.min(1, (LONGEST * scale) / longest);
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * ratio));
    canvas.height = Math.max(1, Math.round(bitmap.height * ratio));
    var context = canvas.getContext("2d");
    context.fillStyle = "#fff";  // a PNG's transparent parts white, not black, in the JPEG
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  // the server's bounds on a photo's pixels (none given: no bound)
  function bounds(input) {
    var pixels = parseInt(input.getAttribute("data-photo-pixels") || "", 10);
    var side = parseInt(input.getAttribute("data-photo-side") || "", 10);
    return { pixels: pixels || Infinity, side: side || Infinity };
  }

  // the smaller photo (a Blob), or null to keep the original: kept whenever the server takes it
  // as it is, so that the server checks the very file chosen
  function shrink(file, limit, most) {
    return decode(file).then(function (bitmap) {
      var longest = Math.max(bitmap.width, bitmap.height);
      var over = bitmap.width * bitmap.height > most.pixels || longest > most.side;
      if (!over && file.size <= limit) {
        if (bitmap.close) { bitmap.close(); }
        return null;
      }
      var attempt = function (index) {
        return encode(bitmap, TRIES[index][0], TRIES[index][1]).then(function (blob) {
          if (blob && blob.size > limit && index + 1 < TRIES.length) { return attempt(index + 1); }
          return blob;
        });
      };
      return attempt(0).then(function (blob) {
        if (bitmap.close) { bitmap.close(); }
        // kept when it did not get smaller (a small PNG of 2500 px drawn as a bigger JPEG)
        return blob && blob.size < file.size ? blob : null;
      });
    });
  }

  // A photo chosen while another was being made smaller: the input's data-shrinking names the
  // newest (a serial); an older one's end changes nothing (before, it cleared the mark and the
  // form went with the new photo as chosen).
  var serial = 0;

  function photo(input) {
    var limit = parseInt(input.getAttribute("data-photo-max") || "", 10);
    var file = input.files && input.files[0];
    if (!limit || !file || !/^image\/(jpeg|png)$/.test(file.type) || !canShrink()) { return; }
    var mine = String(++serial);
    var current = function () { return input.getAttribute("data-shrinking") === mine; };
    input.setAttribute("data-shrinking", mine);
    note(input, say("file_pick_shrinking"));
    shrink(file, limit, bounds(input)).then(function (blob) {
      if (!current()) { return; }
      if (blob && input.files && input.files[0] === file) {
        var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
        var list = new window.DataTransfer();
        list.items.add(new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified }));
        input.files = list.files;
        show(input);
        note(input, say("file_pick_shrunk", { before: megabytes(file.size), after: megabytes(blob.size) }));
      } else {
        note(input, "");
      }
      return true;
    }, function () {
      // not an image the browser can read (a photo cut short does not decode here). Within the
      // limit the original goes and the server says what is wrong with it; over the limit the
      // server would only say it is too big, so the page says it cannot be read, and nothing
      // is sent (the choice is undone, a form waiting for it stays)
      if (!current()) { return true; }
      if (file.size <= limit) { note(input, ""); return true; }
      input.value = "";
      show(input);
      note(input, say("file_pick_unreadable", { size: megabytes(file.size) }));
      return false;
    }).then(function (sendable) {
      if (!current()) { return; }
      input.removeAttribute("data-shrinking");
      var form = input.form;
      if (form && form.getAttribute("data-send-after") && !form.querySelector("[data-shrinking]")) {
        form.removeAttribute("data-send-after");
        if (!sendable) { return; }
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      }
    });
  }

  document.addEventListener("change", function (event) {
    show(event.target);
    if (pickOf(event.target)) { note(event.target, ""); }
    if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-photo-max")) {
      photo(event.target);
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.querySelector && form.querySelector("[data-shrinking]")) {
      event.preventDefault();  // sent once the photo is ready
      form.setAttribute("data-send-after", "1");
    }
  }, true);
  Array.prototype.forEach.call(document.querySelectorAll(".file-pick input[type=file]"), function (input) {
    show(input);
    if (input.hasAttribute("data-photo-max")) { photo(input); }  // chosen before this ran
  });
})();
