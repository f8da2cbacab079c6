// @mentions in comments and replies: the suggestions of GitHub's <text-expander> element
// (static/vendor/text-expander/bundle.js, from npm), filled from the request's people.
//
// Markup contract (templates/requests/detail.html and _reply.html):
//
//   <text-expander keys="@" multiword="@" data-mentionable="/requests/42/mentionable.json">
//     <label ...>  <textarea ...></textarea>  ...
//   </text-expander>
//
// Typing "@" and some letters asks data-mentionable?q=<letters> for the people who may see the
// request (at most eight) and lists them under the caret: the textarea is an ARIA combobox of
// a role=listbox list of role=option items (text-expander's combobox-nav sets aria-expanded
// and aria-activedescendant). Arrow keys move, Enter or Tab picks, Escape closes the list.
// Picking writes the person's mention, @[Name] (or @[e-mail] when the name is shared), which
// the server resolves. A polite live region says how many people match, or that nobody does.
// Names and addresses are set as text, never as markup.
(function () {
  "use strict";

  var DELAY = 150;
  var count = 0;

  function make(tag, className, text) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    if (text) { element.textContent = text; }
    return element;
  }

  function enhance(expander) {
    var url = expander.getAttribute("data-mentionable");
    var input = expander.querySelector("textarea");
    if (!url || !input) { return; }
    count += 1;
    var status = make("div", "visually-hidden mention-status");
    status.id = "mention-status-" + count;
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    expander.appendChild(status);
    var timer = null;
    var latest = 0;

    function say(text) {
      status.textContent = text;
    }

    function people(words) {
      var asked = ++latest;
      return new Promise(function (resolve) {
        clearTimeout(timer);
        timer = setTimeout(function () {
          fetch(url + "?q=" + encodeURIComponent(words), {
            credentials: "same-origin", headers: {"Accept": "application/json"}
          }).then(function (response) {
            return response.ok ? response.json() : {people: []};
          }).then(function (data) {
            resolve(asked === latest ? data.people || [] : null);
          }).catch(function () { resolve([]); });
        }, DELAY);
      });
    }

    function menu(found) {
      var list = make("ul", "mention-list");
      list.setAttribute("role", "listbox");
      list.setAttribute("aria-label", "People who may see this request");
      found.forEach(function (person, index) {
        var option = make("li", "mention-option");
        option.id = "mention-" + count + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("data-value", person.token);
        option.appendChild(make("span", "mention-name", person.name));
        option.appendChild(make("span", "mention-email", person.email));
        list.appendChild(option);
      });
      return list;
    }

    expander.addEventListener("text-expander-change", function (event) {
      if (event.detail.key !== "@") { return; }
      var words = event.detail.text;
      event.detail.provide(people(words).then(function (found) {
        if (found === null) { return {matched: false}; }  // a later keystroke asked again
        if (!found.length) {
          say(words ? "Nobody who may see this request matches \u201c" + words + "\u201d."
                    : "Nobody else may see this request.");
          return {matched: false};
        }
        say(found.length + (found.length === 1 ? " person" : " people")
            + " found: arrow keys to choose, Enter to mention, Escape to close.");
        return {matched: true, fragment: menu(found)};
      }));
    });

    expander.addEventListener("text-expander-value", function (event) {
      if (event.detail.key !== "@") { return; }
      event.detail.value = event.detail.item.getAttribute("data-value");
    });

    expander.addEventListener("text-expander-committed", function () {
      say("");
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("text-expander[data-mentionable]"),
                                 enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
