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

  // Move focus to the error summary after a failed submit, so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
