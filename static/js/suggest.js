// The intake form's suggestions: while the requester types the title and the data needed,
// ask the server (debounced) what may already answer it, show it in the panel under the fields
// (<div id="suggestions" data-suggest-url>), and mark the form as checked for that text
// (the hidden suggestions_seen field), so submitting goes straight through. Without this
// script the server shows the same suggestions as a "check before you submit" step.
// The panel's HTML comes from the server (requests/_suggestions.html, escaped there).
(function () {
  "use strict";

  var DELAY = 400; // ms after the last keystroke
  // What is sent: the whole title, the start of the data needed (suggestions look at the
  // first words only, and a long query string is refused by some servers).
  var MAX_TITLE = 200;
  var MAX_DATA = 300;

  var panel = document.getElementById("suggestions");
  if (!panel || !window.fetch || !window.URLSearchParams) { return; }
  var form = panel.closest("form");
  var title = form && form.elements.namedItem("title");
  var data = form && form.elements.namedItem("data_needed");
  var seen = form && form.elements.namedItem("suggestions_seen");
  var list = panel.querySelector("[data-suggestions-list]");
  if (!title || !data || !seen || !list) { return; }

  var timer = null;
  var sent = null;
  var controller = null;

  function query() {
    return new URLSearchParams({
      title: title.value.slice(0, MAX_TITLE),
      data_needed: data.value.slice(0, MAX_DATA)
    }).toString();
  }

  function show(answer) {
    list.innerHTML = answer.html;
    panel.hidden = answer.results.length === 0;
    seen.value = answer.checked;
  }

  function update() {
    var asked = query();
    if (asked === sent) { return; }
    sent = asked;
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    fetch(panel.dataset.suggestUrl + "?" + asked, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (!response.ok) { throw new Error("suggestions: " + response.status); }
      return response.json();
    }).then(function (answer) {
      if (asked === sent) { show(answer); }
    }).catch(function () {
      // Nothing shown, the form not marked: the server checks the text at submission.
      if (asked === sent) { sent = null; }
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, DELAY);
  }

  title.addEventListener("input", schedule);
  data.addEventListener("input", schedule);

  var check = document.getElementById("check-before-submit");
  if (check) {
    // The server just showed the suggestions for this text above the form.
    sent = query();
    check.focus();
  } else if (title.value.trim() || data.value.trim()) {
    update(); // a form shown again (with errors): its text may have suggestions
  }
})();
