// The triage page's one dialog of action forms (templates/triage/index.html). Each row's
// "Triage" link carries its request: id, version, title, the actions the user may take
// (data-actions) and the requester's priority inputs. A click opens the dialog with the forms
// pointed at that request, cleared, and the accept forms prefilled; only the row's actions
// show. Escape or the close button closes it, and focus goes back to the link. Without
// JavaScript the link leads to the request's own triage page, with the same forms.
(function () {
  "use strict";

  var dialog = document.getElementById("triage-dialog");
  if (!dialog || typeof dialog.showModal !== "function") { return; }
  var title = document.getElementById("triage-dialog-title");
  var context = document.getElementById("triage-dialog-context");
  var buttons = Array.prototype.slice.call(dialog.querySelectorAll("[data-triage-action]"));
  var forms = Array.prototype.slice.call(dialog.querySelectorAll("form[data-triage-form]"));
  var opener = null;

  forms.forEach(function (form) {
    // Rendered for request 0: keep the address to fill in the chosen request's id.
    form.dataset.actionTemplate = form.getAttribute("action");
  });

  function section(name) { return document.getElementById("triage-action-" + name); }

  function show(name) {
    buttons.forEach(function (button) {
      var shown = button.dataset.triageAction === name;
      button.setAttribute("aria-expanded", shown ? "true" : "false");
      section(button.dataset.triageAction).hidden = !shown;
    });
  }

  function field(form, name) {
    return form.elements.namedItem(form.dataset.triageForm + "-" + name);
  }

  function fill(form, link) {
    var data = link.dataset;
    form.reset();
    // A choice made in a picker for another request goes; reset() leaves hidden inputs.
    form.querySelectorAll(".picker-chip button").forEach(function (remove) { remove.click(); });
    Array.prototype.forEach.call(form.querySelectorAll("input[type=hidden]"), function (input) {
      if (!/-(csrf_token|version)$/.test(input.name) && input.name !== "next") { input.value = ""; }
    });
    form.action = form.dataset.actionTemplate.replace("/requests/0/", "/requests/" + data.requestId + "/");
    field(form, "version").value = data.version;
    form.querySelectorAll("[data-picker-request]").forEach(function (input) {
      input.dataset.pickerRequest = data.requestId;
    });
    var impact = field(form, "business_impact");
    if (impact) {
      Array.prototype.forEach.call(impact.length !== undefined ? impact : [impact], function (radio) {
        radio.checked = radio.value === data.impact;
      });
      field(form, "is_exec_sponsored").checked = data.exec === "y";
      field(form, "exec_sponsor").value = data.execSponsor;
    }
    var kind = form.dataset.triageForm === "kind" ? field(form, "kind") : null;
    if (kind) { kind.value = data.kind; }
    // Inputs shown or hidden by others (js/app.js, js/actions.js) follow the values set here.
    Array.prototype.forEach.call(form.elements, function (element) {
      if (element.type === "checkbox" || element.type === "radio" || element.tagName === "SELECT") {
        element.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function open(link) {
    var offered = link.dataset.actions.split(" ");
    opener = link;
    title.textContent = "Triage " + link.dataset.title;
    context.textContent = link.dataset.context;
    forms.forEach(function (form) { fill(form, link); });
    buttons.forEach(function (button) {
      button.hidden = offered.indexOf(button.dataset.triageAction) < 0;
    });
    show(offered.length === 1 ? offered[0] : null);
    dialog.showModal();
    var first = buttons.filter(function (button) { return !button.hidden; })[0];
    (offered.length === 1 ? section(offered[0]).querySelector("input, select, textarea") : first || title).focus();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-triage-open]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    event.preventDefault();
    open(link);
  });
  document.querySelectorAll("[data-triage-open]").forEach(function (link) {
    link.setAttribute("role", "button");
    link.setAttribute("aria-haspopup", "dialog");
  });
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.dataset.triageAction;
      var shown = button.getAttribute("aria-expanded") === "true";
      show(shown ? null : name);
      if (!shown) {
        var input = section(name).querySelector("input:not([type=hidden]), select, textarea");
        if (input) { input.focus(); }
      }
    });
  });
  dialog.querySelector("[data-triage-close]").addEventListener("click", function () { dialog.close(); });
  // A click on the backdrop (the dialog element itself, outside its content) closes it.
  dialog.addEventListener("click", function (event) { if (event.target === dialog) { dialog.close(); } });
  dialog.addEventListener("close", function () {
    if (opener) { opener.focus(); }
  });
})();
