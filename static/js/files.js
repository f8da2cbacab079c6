// File inputs (templates/_files.html): say at once, next to the input, what the server would
// refuse (too many files, too large, an empty file, a type not allowed, a hidden file's name,
// everything together past the largest post), and stop the form from sending it, so nothing
// typed is lost to a refused post. The server checks all of it again.
(function () {
  "use strict";

  function sizeText(bytes) {
    if (bytes < 1024) { return bytes + (bytes === 1 ? " byte" : " bytes"); }
    if (bytes < 1024 * 1024) { return Math.round(bytes / 1024) + " KB"; }
    return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "") + " MB";
  }

  function problems(input) {
    var found = [];
    var files = Array.prototype.slice.call(input.files || []);
    var maxFiles = Number(input.dataset.maxFiles);
    var held = Number(input.dataset.held || 0);
    if (files.length + held > maxFiles) {
      found.push("That is " + (files.length + held) + " files: send at most " + maxFiles + " at a time.");
    }
    var types = (input.dataset.types || "").split(",");
    var maxBytes = Number(input.dataset.maxBytes);
    var total = 0;
    files.forEach(function (file) {
      var name = file.name;
      var dot = name.lastIndexOf(".");
      var extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
      total += file.size;
      if (name.charAt(0) === ".") {
        found.push("\u201c" + name + "\u201d starts with a dot (a hidden file): rename it so the name starts with a letter or a digit.");
      } else if (types.indexOf(extension) < 0) {
        found.push("\u201c" + name + "\u201d: " + (extension || "files without a type") + (extension ? " files are" : " are") + " not allowed here. Allowed types: " + types.join(", ") + ".");
      } else if (file.size === 0) {
        found.push("\u201c" + name + "\u201d is empty (0 bytes): choose the file again once it is saved.");
      } else if (file.size > maxBytes) {
        found.push("\u201c" + name + "\u201d is " + sizeText(file.size) + ": files may be at most " + input.dataset.maxMb + " MB. Send a smaller extract, or a link to where the whole file is.");
      }
    });
    var maxTotal = Number(input.dataset.maxTotal || 0);
    if (maxTotal && total > maxTotal && !found.length) {
      found.push("Together these files are " + sizeText(total) + ": send at most " + sizeText(maxTotal) + " in one go (attach the rest afterwards).");
    }
    return found;
  }

  function show(input, messages) {
    var id = input.id + "-error";
    var error = document.getElementById(id);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (part) {
      return part && part !== id;
    });
    if (!messages.length) {
      if (error && error.dataset.fromScript) { error.remove(); }
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", described.join(" "));
      return;
    }
    if (!error) {
      error = document.createElement("div");
      error.id = id;
      error.className = "invalid-feedback";
      error.dataset.fromScript = "true";
      input.insertAdjacentElement("afterend", error);
    }
    error.textContent = messages.join(" ");
    input.classList.add("is-invalid");
    input.setAttribute("aria-invalid", "true");
    described.push(id);
    input.setAttribute("aria-describedby", described.join(" "));
  }

  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () { show(input, problems(input)); });
    var form = input.form;
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      var found = problems(input);
      show(input, found);
      if (found.length) {
        event.preventDefault();
        input.focus();
      }
    });
  });
})();
