// The studio's form: pictures chosen, dropped or pasted, previews in send order, ready-made
// instructions, Ctrl/Cmd+Enter, and the form made ready again once an edit is accepted.
(function () {
  "use strict";

  var ACCEPTED = ["image/jpeg", "image/png", "image/webp", "image/gif"];

  // ---- Giving the pictures: file picker, drop anywhere, paste; previews in send order. ----
  function uploadInput() {
    return document.querySelector("#upload-form input[type=file]");
  }

  function zoneOf(input) {
    return input.closest("[data-dropzone]");
  }

  function say(input, message) {
    var box = input.form.querySelector("[data-client-error]");
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
  }

  // The input's own FileList is the one list of chosen files: what is shown is what is sent.
  // A copy is kept because the picker replaces the list, and choosing more should add.
  var chosenBefore = new WeakMap();

  function setFiles(input, files) {
    chosenBefore.set(input, files.slice());
    var transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
    showPreviews(input);
  }

  function addFiles(input, incoming) {
    var zone = zoneOf(input);
    var maxCount = parseInt(zone.dataset.maxInputs, 10);
    var maxBytes = parseInt(zone.dataset.maxBytes, 10);
    var files = Array.prototype.slice.call(input.files);
    var problems = [];
    Array.prototype.forEach.call(incoming, function (file) {
      if (ACCEPTED.indexOf(file.type) === -1) {
        problems.push(file.name + " " + zone.dataset.msgType);
      } else if (file.size > maxBytes) {
        problems.push(file.name + " " + zone.dataset.msgSize);
      } else if (files.length >= maxCount) {
        if (problems.indexOf(zone.dataset.msgCount) === -1) problems.push(zone.dataset.msgCount);
      } else {
        files.push(file);
      }
    });
    setFiles(input, files);
    say(input, problems.join(" "));
  }

  function showPreviews(input) {
    var list = input.form.querySelector("[data-previews]");
    if (!list) return;
    list.replaceChildren();
    Array.prototype.forEach.call(input.files, function (file, index) {
      var item = document.createElement("li");
      var img = document.createElement("img");
      img.alt = file.name;
      img.decoding = "async"; // a camera photo takes a while to decode: not on the main thread
      img.src = URL.createObjectURL(file);
      img.addEventListener("load", function () { URL.revokeObjectURL(img.src); });
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", zoneOf(input).dataset.msgRemove + " " + file.name);
      remove.dataset.removeIndex = String(index);
      item.append(img, remove);
      list.append(item);
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("#upload-form input[type=file]")) return;
    // The picker replaced the list: put back what was there, then add by the same rules.
    var chosen = Array.prototype.slice.call(input.files);
    setFiles(input, chosenBefore.get(input) || []);
    addFiles(input, chosen);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-index]");
    if (!button) return;
    var input = uploadInput();
    var files = Array.prototype.slice.call(input.files);
    files.splice(parseInt(button.dataset.removeIndex, 10), 1);
    setFiles(input, files);
    say(input, "");
  });

  function carriesFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1;
  }

  var dragDepth = 0;
  document.addEventListener("dragenter", function (event) {
    if (!uploadInput() || !carriesFiles(event)) return;
    dragDepth += 1;
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragleave", function () {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) document.body.classList.remove("dragging");
  });
  document.addEventListener("dragover", function (event) {
    if (uploadInput() && carriesFiles(event)) event.preventDefault();
  });
  document.addEventListener("drop", function (event) {
    var input = uploadInput();
    dragDepth = 0;
    document.body.classList.remove("dragging");
    if (!input || !carriesFiles(event)) return;
    event.preventDefault();
    addFiles(input, event.dataTransfer.files);
  });

  document.addEventListener("paste", function (event) {
    var input = uploadInput();
    var files = event.clipboardData && event.clipboardData.files;
    if (!input || !files || !files.length) return; // pasting text stays pasting text
    event.preventDefault();
    addFiles(input, files);
  });

  // ---- The instruction: ready-made ones, and Ctrl/Cmd+Enter to send. ----
  document.addEventListener("click", function (event) {
    var chip = event.target.closest("[data-preset]");
    if (!chip) return;
    var box = chip.form.querySelector("textarea");
    box.value = chip.dataset.preset;
    box.focus();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!event.target.matches("#upload-form textarea")) return;
    event.preventDefault();
    event.target.form.requestSubmit();
  });

  // ---- After htmx swaps. ----
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "edit-list") {
      var empty = document.getElementById("no-edits");
      if (empty) empty.remove();
      var sent = event.detail.requestConfig && event.detail.requestConfig.elt;
      if (sent && sent.matches("form[data-reset-after-send]")) emptyUploadForm(sent);
    }
  });

  // The edit was accepted (its card came back): ready the form for the next one. The model
  // stays as chosen; an "edit again" result, the pictures, the text and old errors go.
  function emptyUploadForm(form) {
    var input = form.querySelector("input[type=file]");
    setFiles(input, []);
    say(input, "");
    form.querySelector("textarea").value = "";
    form.querySelector("input[name=parent]").value = "";
    form.querySelectorAll("[data-parent], .errors:not([data-client-error])").forEach(function (el) {
      el.remove();
    });
  }

  // Pictures handed over by other scripts (the share target, share-target.js): added as
  // if dropped, by the same rules.
  document.addEventListener("gaitu:add-files", function (event) {
    var input = uploadInput();
    if (input && event.detail && event.detail.files) addFiles(input, event.detail.files);
  });
})();
