// Datadesk's small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Show a field only while its checkbox is ticked: <div data-shown-by="checkbox-id">.
  document.querySelectorAll("[data-shown-by]").forEach(function (target) {
    var box = document.getElementById(target.dataset.shownBy);
    if (!box) { return; }
    var sync = function () { target.hidden = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });

  // Disable an input while a checkbox is ticked: <input data-disabled-by="checkbox-id">.
  document.querySelectorAll("[data-disabled-by]").forEach(function (input) {
    var box = document.getElementById(input.dataset.disabledBy);
    if (!box) { return; }
    var sync = function () {
      input.disabled = box.checked;
      if (box.checked) { input.value = ""; }
    };
    box.addEventListener("change", sync);
    sync();
  });

  // Warn while a chosen date is short notice:
  // <input data-short-notice-before="YYYY-MM-DD" data-short-notice-warning="element-id">.
  document.querySelectorAll("[data-short-notice-before]").forEach(function (input) {
    var warning = document.getElementById(input.dataset.shortNoticeWarning);
    if (!warning) { return; }
    var sync = function () {
      // ISO dates (YYYY-MM-DD) compare correctly as strings.
      // A date in the past gets its own error from the server, not this warning.
      var past = input.min && input.value < input.min;
      var short = !input.disabled && input.value !== "" && !past &&
        input.value < input.dataset.shortNoticeBefore;
      warning.textContent = short
        ? "Short notice: this deadline is closer than the team's lead time, so they may not make it. You can still submit."
        : "";
      warning.hidden = !short;
    };
    input.addEventListener("input", sync);
    input.addEventListener("change", sync);
    var box = input.dataset.disabledBy && document.getElementById(input.dataset.disabledBy);
    if (box) { box.addEventListener("change", sync); }
    sync();
  });

  // Keep the chosen team's ad-hoc budget outlook in step with the form: its line, and the
  // waitlist notice when the budget is used up and the request is ad-hoc.
  // <div data-budget-of="select-id" data-kind-name="kind"
  //      data-budget-outlooks='{"team id": {"line": "...", "notice": {...} or null}}'>.
  document.querySelectorAll("[data-budget-of]").forEach(function (box) {
    var select = document.getElementById(box.dataset.budgetOf);
    if (!select) { return; }
    var outlooks = JSON.parse(box.dataset.budgetOutlooks || "{}");
    var kinds = document.querySelectorAll('input[name="' + box.dataset.kindName + '"]');
    var line = box.querySelector(".budget-line");
    var notice = box.querySelector(".waitlist-notice");
    var kind = function () {
      var chosen = "ad_hoc";
      kinds.forEach(function (radio) { if (radio.checked) { chosen = radio.value; } });
      return chosen;
    };
    var sync = function () {
      var outlook = outlooks[select.value] || {};
      line.textContent = outlook.line || "";
      line.hidden = !outlook.line;
      var shown = outlook.notice && kind() === "ad_hoc" ? outlook.notice : null;
      notice.hidden = !shown;
      if (!shown) { return; }
      notice.querySelector("[data-notice-title] span").textContent = shown.title;
      notice.querySelector("[data-notice-text]").textContent = shown.text;
      var list = notice.querySelector("[data-notice-options]");
      list.replaceChildren();
      shown.options.forEach(function (option) {
        var item = document.createElement("li");
        item.textContent = option;
        list.appendChild(item);
      });
    };
    select.addEventListener("change", sync);
    kinds.forEach(function (radio) { radio.addEventListener("change", sync); });
    sync();
  });

  // A table too wide (or too long) for its box scrolls inside it: keyboard users reach it with
  // Tab to scroll it with the arrows, unless a link or button inside already takes them there.
  // It is then a named region (its caption), so screen readers say what they landed on.
  var focusable = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])";
  var reachScrollers = function () {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      var needed = scrolls && !box.querySelector(focusable);
      if (needed && !box.hasAttribute("tabindex")) {
        var caption = box.querySelector("caption");
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
        box.dataset.scrollRegion = "true";
      } else if (!needed && box.dataset.scrollRegion) {
        ["tabindex", "role", "aria-label", "data-scroll-region"].forEach(function (name) {
          box.removeAttribute(name);
        });
      }
    });
  };
  var pending = null;
  var later = function () {
    if (pending === null) { pending = window.requestAnimationFrame(function () { pending = null; reachScrollers(); }); }
  };
  reachScrollers();
  window.addEventListener("resize", later);
  // Tables that arrive later (a report card's "Table" toggle) and panels that unfold.
  new MutationObserver(later).observe(document.body, {childList: true, subtree: true, attributes: true, attributeFilter: ["class", "hidden", "open"]});

  // Escape folds the phone's menu that has the focus and gives the focus back to its button,
  // as it closes a dropdown (Bootstrap closes an open dropdown first, and says so by
  // preventing the key's default).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || !window.bootstrap) { return; }
    var menu = event.target.closest && event.target.closest(".navbar-collapse.show");
    if (!menu) { return; }
    window.bootstrap.Collapse.getOrCreateInstance(menu, {toggle: false}).hide();
    var button = document.querySelector("[data-bs-target='#" + menu.id + "']");
    if (button) { button.focus(); }
  });

  // A secret shown once (an access token): focusing selects it whole, and a button copies it.
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copyTarget);
      var label = button.querySelector("span");
      function copied() { if (label) { label.textContent = button.dataset.copiedText; } }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(copied, function () { input.select(); });
      } else {
        input.select();
        if (document.execCommand && document.execCommand("copy")) { copied(); }
      }
    });
  });

  // Move focus to the error summary after a failed submit, so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
