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

  // Show the selected team's ad-hoc budget line:
  // <p data-budget-of="select-id" data-budget-lines='{"team id": "line"}'>.
  document.querySelectorAll("[data-budget-of]").forEach(function (line) {
    var select = document.getElementById(line.dataset.budgetOf);
    if (!select) { return; }
    var lines = JSON.parse(line.dataset.budgetLines || "{}");
    var sync = function () {
      var text = lines[select.value] || "";
      line.textContent = text;
      line.hidden = text === "";
    };
    select.addEventListener("change", sync);
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

  // Move focus to the error summary after a failed submit, so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
