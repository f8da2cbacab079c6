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

  // Move focus to the error summary after a failed submit, so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
