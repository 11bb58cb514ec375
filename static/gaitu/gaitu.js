// Small comforts on top of htmx; every page works without this file.
(function () {
  "use strict";

  // The language menu applies the choice at once.
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  // Show the chosen pictures before they are sent.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("#upload-form input[type=file]")) return;
    var box = input.form.querySelector("[data-previews]");
    if (!box) return;
    box.replaceChildren();
    Array.prototype.forEach.call(input.files, function (file) {
      if (!file.type.startsWith("image/")) return;
      var img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      img.addEventListener("load", function () { URL.revokeObjectURL(img.src); });
      box.appendChild(img);
    });
  });

  // Copy a share link to the clipboard, and say so on the button.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    var done = function () {
      var label = button.textContent;
      button.textContent = "✓";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else if (document.execCommand("copy")) {
      done();
    }
  });

  // Once the first edit is submitted, the "no edits yet" line has nothing left to say.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "edit-list") {
      var empty = document.getElementById("no-edits");
      if (empty) empty.remove();
    }
  });
})();
