// The action forms of the request and triage pages: show a choice's inputs only while it is
// made. <div data-shown-when="input-name=value"> inside a form shows while the form's input (a
// select or a group of radio buttons) of that name has that value. Without JavaScript every
// input shows, and the server ignores those of the choices not made.
(function () {
  "use strict";

  document.querySelectorAll("[data-shown-when]").forEach(function (target) {
    var form = target.closest("form");
    var spec = target.dataset.shownWhen;
    var at = spec.lastIndexOf("=");
    if (!form || at < 0) { return; }
    var name = spec.slice(0, at);
    var value = spec.slice(at + 1);
    var input = form.elements.namedItem(name);
    if (!input) { return; }
    var sync = function () { target.hidden = input.value !== value; };
    form.addEventListener("change", function (event) {
      if (event.target.name === name) { sync(); }
    });
    sync();
  });
})();
