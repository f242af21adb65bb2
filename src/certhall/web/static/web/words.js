// The words a script shows, from the one message catalogue (certhall.messages): the page carries
// each script's entries as JSON (<script type="application/json" class="certhall-words">, from
// {% words_script %} or, on the certificate helper's own page, agent.pinpage), so no script
// writes words of its own and the Content-Security-Policy still forbids inline script.
// certhallWords(code, params) is the entry with its {name} fields filled, as messages.text does.
// An entry or a field the page does not carry throws: never a blank or a code on the page
// (tests/web/test_script_words.py checks every script's codes and fields before it gets here).
(function () {
  "use strict";
  var known = null;

  function load() {
    known = {};
    Array.prototype.forEach.call(document.querySelectorAll("script.certhall-words"), function (element) {
      var entries = JSON.parse(element.textContent);
      Object.keys(entries).forEach(function (code) { known[code] = entries[code]; });
    });
  }

  window.certhallWords = function (code, params) {
    if (known === null || !Object.prototype.hasOwnProperty.call(known, code)) { load(); }
    if (!Object.prototype.hasOwnProperty.call(known, code)) {
      throw new Error("certhall: the page carries no words for " + code);
    }
    var values = params || {};
    return known[code].replace(/\{\{|\}\}|\{(\w+)\}/g, function (field, name) {
      if (!name) { return field.charAt(0); }
      if (!Object.prototype.hasOwnProperty.call(values, name)) {
        throw new Error("certhall: " + code + " needs " + name);
      }
      return String(values[name]);
    });
  };
})();
