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

  // Move focus to the error summary after a failed submit, so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
