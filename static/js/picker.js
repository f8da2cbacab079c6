// The search picker: choose a request or a catalogue asset by typing words (issue 12).
//
// Markup contract (the page renders it; this script only enhances it):
//
//   <label for="dup-q">Duplicate of</label>
//   <input type="text" id="dup-q" data-picker="duplicate" data-picker-request="42"
//          data-picker-target="mark_duplicate-original">
//   <input type="hidden" id="mark_duplicate-original" name="mark_duplicate-original" value="">
//
//   data-picker          "duplicate" (open requests; analysts and leads only) or "answer"
//                        (delivered or resolved requests and active catalogue assets): the
//                        `for` of /search/pick.json.
//   data-picker-request  optional: the id of the request being acted on, never offered.
//   data-picker-kinds    optional, answers only: "asset" or "request" offers only that kind.
//   data-picker-target   the id of the hidden input that receives the choice (several ids,
//                        separated by spaces, all receive it).
//   data-picker-value    optional: "ref" (default) puts "request:<id>" or "asset:<id>" in the
//                        target(s); "id" puts the bare number (for a field that takes a
//                        request number).
//   data-picker-label    optional: the text of a choice already made (a form shown again after
//                        an error): with a target already holding a value, it shows as the chip.
//
// Typing waits 250 ms, then asks /search/pick.json?for=...&q=...&request=... for up to eight
// results and lists them under the input (role=listbox of role=option; the input is a
// combobox with aria-expanded and aria-activedescendant). Arrow keys move through the list,
// Enter picks, Escape closes the list (or, when it is closed, clears the text). Picking fills
// the target(s), hides the text input and shows the choice as a chip with a remove button;
// removing empties the target(s) and brings the input back. Each change fires a bubbling
// "picker:change" event on the text input, with detail {kind, id, value, title, label, url}
// or null when the choice is removed. title_html and snippet_html of the JSON are escaped by
// the server (only <mark> is markup); every other text is set as text.
// Without JavaScript the page shows its own fallback (e.g. a number field).
(function () {
  "use strict";

  var DELAY = 250;
  var ENDPOINT = "/search/pick.json";
  var count = 0;

  function make(tag, className, text) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    if (text) { element.textContent = text; }
    return element;
  }

  function enhance(input) {
    count += 1;
    var id = input.id || "picker-" + count;
    input.id = id;
    var targets = (input.dataset.pickerTarget || "").split(/\s+/).map(function (targetId) {
      return document.getElementById(targetId);
    }).filter(Boolean);
    if (!targets.length) { return; }

    var wrapper = make("div", "picker");
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    var list = make("ul", "picker-list");
    list.id = id + "-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Results");
    list.hidden = true;
    wrapper.appendChild(list);
    var status = make("div", "picker-message small");
    status.id = id + "-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    wrapper.appendChild(status);
    var chip = make("div", "picker-choice mt-1");
    chip.hidden = true;
    wrapper.parentNode.insertBefore(chip, wrapper.nextSibling);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    var described = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    described.push(status.id);
    input.setAttribute("aria-describedby", described.join(" "));

    var results = [];
    var active = -1;
    var timer = null;
    var asked = 0;
    var controller = null;

    function open(isOpen) {
      list.hidden = !isOpen;
      input.setAttribute("aria-expanded", isOpen ? "true" : "false");
      if (!isOpen) { setActive(-1); }
    }

    function setActive(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && list.children[index]) {
        input.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(found, message) {
      results = found;
      list.textContent = "";
      found.forEach(function (row, i) {
        var option = make("li", "picker-option");
        option.id = id + "-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var title = make("div", "fw-semibold");
        title.innerHTML = row.title_html;  // escaped by the server; only <mark> is markup
        option.appendChild(title);
        option.appendChild(make("div", "small text-body-secondary", row.label));
        if (row.snippet_html) {
          var snippet = make("div", "small text-truncate");
          snippet.innerHTML = row.snippet_html;  // escaped by the server too
          option.appendChild(snippet);
        }
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();  // keep the focus in the input until the choice is made
          pick(i);
        });
        list.appendChild(option);
      });
      status.textContent = found.length
        ? found.length + (found.length === 1 ? " result" : " results") + ": use the arrow keys and Enter to choose."
        : (message || "");
      open(found.length > 0);
    }

    function ask() {
      var text = input.value.trim();
      asked += 1;
      var mine = asked;
      if (controller) { controller.abort(); }
      if (!text) { show([], ""); return; }
      var params = new URLSearchParams({ "for": input.dataset.picker, q: text });
      if (input.dataset.pickerRequest) { params.set("request", input.dataset.pickerRequest); }
      if (input.dataset.pickerKinds) { params.set("kinds", input.dataset.pickerKinds); }
      controller = window.AbortController ? new AbortController() : null;
      status.textContent = "Searching…";
      fetch(ENDPOINT + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("json") >= 0;
        if (!json) { throw new Error("Your session may have ended: reload the page."); }
        return response.json();
      }).then(function (body) {
        if (mine === asked) { show(body.results || [], body.message); }
      }).catch(function (error) {
        if (mine === asked && error.name !== "AbortError") {
          show([], error.message || "The search did not answer: try again.");
        }
      });
    }

    function choose(choice) {
      var value = !choice ? "" : input.dataset.pickerValue === "id" ? String(choice.id) : choice.value;
      targets.forEach(function (target) { target.value = value; });
      chip.textContent = "";
      wrapper.hidden = !!choice;
      chip.hidden = !choice;
      if (choice) {
        var box = make("span", "picker-chip");
        var text = make("span");
        if (choice.url) {
          var link = make("a", "", choice.title);
          link.href = choice.url;
          link.target = "_blank";
          link.rel = "noopener";
          text.appendChild(link);
        } else {
          text.textContent = choice.title;
        }
        if (choice.label) { text.appendChild(make("span", "small text-body-secondary", " · " + choice.label)); }
        box.appendChild(text);
        var remove = make("button", "btn-close btn-sm");
        remove.type = "button";
        remove.setAttribute("aria-label", "Remove " + choice.title);
        remove.addEventListener("click", function () {
          choose(null);
          input.focus();
        });
        box.appendChild(remove);
        chip.appendChild(box);
      }
      input.dispatchEvent(new CustomEvent("picker:change", { bubbles: true, detail: choice }));
    }

    function pick(index) {
      var row = results[index];
      if (!row) { return; }
      open(false);
      input.value = "";
      status.textContent = "";
      choose({ kind: row.kind, id: row.id, value: row.value, title: row.title, label: row.label, url: row.url });
      var remove = chip.querySelector("button");
      if (remove) { remove.focus(); }
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      var key = event.key;
      if (key === "ArrowDown" || key === "ArrowUp") {
        if (!results.length) { return; }
        event.preventDefault();
        if (list.hidden) { open(true); }
        var step = key === "ArrowDown" ? 1 : -1;
        setActive((active + step + results.length + (active < 0 && step < 0 ? 1 : 0)) % results.length);
      } else if (key === "Enter") {
        if (!list.hidden && active >= 0) {
          event.preventDefault();  // a choice, not the form's submission
          pick(active);
        }
      } else if (key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          open(false);
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
          show([], "");
        }
      } else if (key === "Tab") {
        open(false);
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(function () { open(false); }, 150); });
    input.addEventListener("focus", function () { if (results.length) { open(true); } });

    var current = targets[0].value;
    if (current && input.dataset.pickerLabel) {
      var parts = current.split(":");
      choose({ kind: parts.length > 1 ? parts[0] : "request", id: parts[parts.length - 1], value: current,
               title: input.dataset.pickerLabel, label: "", url: "" });
    }
  }

  document.querySelectorAll("input[data-picker]").forEach(enhance);
})();
