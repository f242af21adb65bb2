// certhall certificate helper: the PIN window. The PIN is posted to this helper only
// (same origin, http://127.0.0.1:PORT) and goes to the Ukey; the web page never sees it.
(function () {
  "use strict";
  var body = document.body;
  var requestId = body.getAttribute("data-request");
  var formToken = body.getAttribute("data-form-token");
  var form = document.getElementById("pin-form");
  if (!requestId || !form) { return; }
  var pin = document.getElementById("pin");
  var submit = document.getElementById("submit");
  var cancel = document.getElementById("cancel");
  var message = document.getElementById("message");

  function show(text, kind) {
    message.textContent = text;
    message.className = "message" + (kind ? " " + kind : "");
  }

  function finish(text) {
    show(text, "ok");
    pin.disabled = true;
    submit.disabled = true;
    cancel.textContent = "关闭";
    setTimeout(function () { window.close(); }, 800);
  }

  function post(path, payload) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return {}; });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!pin.value) { show("请输入PIN码。", "error"); return; }
    submit.disabled = true;
    show("正在验证PIN码并签名，请稍候……", "");
    var value = pin.value;
    pin.value = "";
    post("/pin/" + requestId, { pin: value, form_token: formToken }).then(function (data) {
      value = "";
      if (data.state === "done") {
        finish("签名完成，请回到网页继续。此窗口将自动关闭。");
        return;
      }
      var error = data.error || {};
      show(error.message || "操作失败，请重试。", "error");
      if (data.state === "waiting_pin") {
        submit.disabled = false;
        pin.focus();
      } else {
        pin.disabled = true;
        cancel.textContent = "关闭";
      }
    }, function () {
      submit.disabled = false;
      show("无法连接证书助手，请确认证书助手正在运行。", "error");
    });
  });

  cancel.addEventListener("click", function () {
    if (submit.disabled && pin.disabled) { window.close(); return; }
    post("/pin/" + requestId + "/cancel", { form_token: formToken }).then(function () {
      window.close();
    }, function () { window.close(); });
  });
})();
