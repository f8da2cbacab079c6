// A filterable checkbox list (templates/_checklist.html): typing hides the boxes whose label
// does not contain the text; chosen boxes are listed below, shown or not. Without this script
// every box is shown and the form works the same.
(function () {
  "use strict";

  document.querySelectorAll("[data-checklist]").forEach(function (list) {
    var filterBox = list.querySelector("[data-checklist-filter]");
    var input = filterBox && filterBox.querySelector("input");
    var items = Array.prototype.slice.call(list.querySelectorAll("[data-checklist-item]"));
    var none = list.querySelector("[data-checklist-none]");
    var chosen = list.querySelector("[data-checklist-chosen]");
    var shown = list.querySelector("[data-checklist-shown]");
    var noun = list.dataset.noun || "items";
    if (!input || items.length === 0) { return; }
    filterBox.hidden = false;

    var labelOf = function (item) { return item.querySelector("label").textContent.trim(); };

    var showChosen = function () {
      var names = items.filter(function (item) { return item.querySelector("input").checked; })
        .map(labelOf);
      chosen.textContent = "Chosen: " + (names.length ? names.join(", ") : "none");
    };

    var filter = function () {
      var wanted = input.value.trim().toLocaleLowerCase();
      var count = 0;
      items.forEach(function (item) {
        var match = wanted === "" || labelOf(item).toLocaleLowerCase().indexOf(wanted) !== -1;
        item.hidden = !match;
        if (match) { count += 1; }
      });
      none.hidden = count > 0;
      shown.textContent = wanted === "" ? "" : count + " of " + items.length + " " + noun + " shown";
    };

    input.addEventListener("input", filter);
    // Enter in the filter box must not send the form: it picks the only match instead.
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var visible = items.filter(function (item) { return !item.hidden; });
      if (visible.length === 1) { visible[0].querySelector("input").focus(); }
    });
    list.addEventListener("change", showChosen);
    filter();
  });
})();
