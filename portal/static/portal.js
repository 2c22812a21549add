// outhook webhooks portal: small progressive enhancements. The page works
// without this script; it adds a copy button for a new secret and a
// light/dark toggle remembered in this browser.
(function () {
  "use strict";
  var root = document.documentElement;
  var key = "outhook-portal-theme";
  try {
    var saved = window.localStorage.getItem(key);
    if (saved === "light" || saved === "dark") { root.setAttribute("data-theme", saved); }
  } catch (e) { /* storage may be blocked in an iframe */ }

  function isDark() {
    var t = root.getAttribute("data-theme");
    if (t) { return t === "dark"; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector("[data-oh-theme-toggle]");
    if (toggle) {
      var sync = function () { toggle.setAttribute("aria-pressed", isDark() ? "true" : "false"); };
      sync();
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var next = isDark() ? "light" : "dark";
        root.setAttribute("data-theme", next);
        try { window.localStorage.setItem(key, next); } catch (e) { /* ignore */ }
        sync();
      });
    }
    document.querySelectorAll("[data-oh-copy]").forEach(function (btn) {
      var input = document.getElementById(btn.getAttribute("data-oh-copy"));
      var status = btn.parentNode.querySelector(".oh-copied");
      if (!input || !navigator.clipboard) { return; }
      btn.hidden = false;
      btn.addEventListener("click", function () {
        navigator.clipboard.writeText(input.value).then(function () {
          if (status) { status.textContent = "Copied."; }
        }, function () {
          input.select();
          if (status) { status.textContent = "Select the secret and copy it."; }
        });
      });
    });
  });
}());
