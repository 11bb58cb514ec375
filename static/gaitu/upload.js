// The studio's form: pictures chosen, photographed, dropped or pasted (or a link to one pasted),
// previews in send order, ready-made instructions, Ctrl/Cmd+Enter; once an edit, a comparison or
// a batch is accepted, its card brought into view with the pictures just chosen until the
// server's thumbnails come, and the form made ready again; once one is refused, the form left as
// it was, to send again. What the form is about to do, and its options, are make-options.js's.
(function () {
  "use strict";

  var ACCEPTED = ["image/jpeg", "image/png", "image/webp", "image/gif"];

  // ---- Giving the pictures: file picker, drop anywhere, paste; previews in send order. ----
  function uploadInput() {
    return document.querySelector("#upload-form input[name=images]");
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
    // The form's heading and button say what it will do, which the pictures decide.
    input.dispatchEvent(new CustomEvent("gaitu:pictures-changed", { bubbles: true }));
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
    if (input.matches("#upload-form input[data-camera]")) {
      // A photo just taken joins the pictures chosen; the camera's own input is never sent.
      var taken = Array.prototype.slice.call(input.files);
      input.value = "";
      addFiles(uploadInput(), taken);
      return;
    }
    if (!input.matches("#upload-form input[name=images]")) return;
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
    if (!input) return;
    if (files && files.length) {
      event.preventDefault();
      addFiles(input, files);
    } else {
      pasteLink(event);
    }
  });

  // A link to a picture pasted onto the page (not into a text box: there it is text) goes in
  // the link field, which the server fetches.
  function pasteLink(event) {
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    var field = document.querySelector("#upload-form input[name=image_url]");
    var text = (event.clipboardData.getData("text/plain") || "").trim();
    if (!field || !/^https?:\/\/\S+$/i.test(text)) return;
    event.preventDefault();
    field.value = text;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
  }

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

  // ---- Sending, and the answer. ----
  // What was sent, kept to show in the new card while its thumbnails are being made.
  var lastSent = null;
  // Card id -> the pictures it was sent with, until its thumbnails replace them.
  var pendingSources = new Map();

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-reset-after-send]")) return;
    var parentValue = form.querySelector("input[name=parent]").value;
    var parentImg = form.querySelector("[data-parent] img");
    lastSent = {
      files: Array.prototype.slice.call(uploadInput().files),
      // "Edit again": the result is the edit's first original, the chosen pictures follow.
      offset: parentValue ? 1 : 0,
      parentSrc: parentValue && parentImg ? parentImg.currentSrc || parentImg.src : "",
      parentAlt: parentImg ? parentImg.alt : "",
    };
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var sent = event.detail.requestConfig && event.detail.requestConfig.elt;
    var fromForm = sent && sent.matches && sent.matches("form[data-reset-after-send]");
    if (target.id === "edit-list") {
      var empty = document.getElementById("no-edits");
      if (empty) empty.remove();
      if (!fromForm) return;
      // What came is one item of the list: an edit's card, or a group's (a comparison, a
      // batch), put first.
      var item = target.querySelector(":scope > [id^='edit-'], :scope > [id^='group-']");
      if (item && lastSent) holdPendingSources(item, lastSent);
      lastSent = null;
      emptyUploadForm(sent);
      if (item) bringIntoView(item, sent);
    } else if (target.id === "upload-feedback" && fromForm) {
      // Refused: the form, its pictures and its text are as they were; show why.
      lastSent = null;
      var first = firstMessage(sent);
      if (first) first.scrollIntoView({ block: "nearest", behavior: scrollBehaviour() });
    }
  });

  // A card swapped in again (news of its progress) gets the pictures back until the server's
  // thumbnails are there.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (elt.id && pendingSources.has(elt.id)) showPendingSources(elt);
    // A card that has left the page (deleted) lets its pictures go too.
    pendingSources.forEach(function (_sent, id) {
      if (!document.getElementById(id)) pendingSources.delete(id);
    });
  });

  // The new item's places for originals whose thumbnails are still being made (an edit's
  // card has them; a group's card, if it has any) show what was sent until then.
  function holdPendingSources(item, sent) {
    pendingSources.set(item.id, sent);
    showPendingSources(item);
  }

  function showPendingSources(card) {
    var sent = pendingSources.get(card.id);
    if (!sent) return;
    var slots = card.querySelectorAll("[data-pending-source]");
    if (!slots.length) {
      pendingSources.delete(card.id); // every thumbnail is made: the pictures are let go
      return;
    }
    slots.forEach(function (slot) {
      if (slot.querySelector("img.pending-preview")) return;
      var index = parseInt(slot.dataset.pendingSource, 10) - sent.offset;
      var img = document.createElement("img");
      img.className = "pending-preview";
      img.decoding = "async";
      if (index < 0) {
        if (!sent.parentSrc) return;
        img.src = sent.parentSrc;
        img.alt = sent.parentAlt;
      } else {
        var file = sent.files[index];
        if (!file) return;
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        // Decoded, the picture stays on screen: its object URL is let go at once.
        var release = function () { URL.revokeObjectURL(img.src); };
        img.addEventListener("load", release);
        img.addEventListener("error", release);
      }
      slot.replaceChildren(img);
    });
  }

  function scrollBehaviour() {
    return window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
  }

  // On a phone the list is below the form: the new card is brought up, always. Beside the
  // form (a desktop), only when it is out of sight.
  function bringIntoView(card, form) {
    var cardBox = card.getBoundingClientRect();
    var stacked = cardBox.top >= form.getBoundingClientRect().bottom;
    var inSight = cardBox.top >= 0 && cardBox.top < window.innerHeight;
    if (!stacked && inSight) return;
    card.scrollIntoView({ block: "start", behavior: scrollBehaviour() });
  }

  function firstMessage(form) {
    var boxes = form.querySelectorAll("#parent-problem, .errors, [data-upload-feedback]");
    return Array.prototype.find.call(boxes, function (box) {
      return !box.hidden && box.textContent.trim() !== "";
    });
  }

  // The edit was accepted (its card came back): ready the form for the next one. The model,
  // the mode and the options stay as chosen; an "edit again" result, the pictures, the link,
  // the text and old messages go.
  // The message boxes themselves stay: the next refusal is put in them.
  function emptyUploadForm(form) {
    var input = uploadInput();
    setFiles(input, []);
    say(input, "");
    form.querySelector("textarea").value = "";
    form.querySelector("input[name=parent]").value = "";
    var link = form.querySelector("input[name=image_url]");
    if (link) link.value = "";
    form.querySelectorAll("[data-parent]").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[id$='-errors'], [data-upload-feedback]")
      .forEach(function (box) { box.replaceChildren(); });
    var problem = form.querySelector("#parent-problem");
    if (problem) {
      problem.replaceChildren();
      problem.removeAttribute("class");
      problem.removeAttribute("role");
      problem.removeAttribute("data-parent-problem");
    }
    form.dispatchEvent(new CustomEvent("gaitu:pictures-changed", { bubbles: true }));
  }

  // Pictures handed over by other scripts (the share target, share-target.js): added as
  // if dropped, by the same rules. With `first` (an original a mask was painted on, mask.js)
  // they go before those chosen already: the mask belongs to the first picture.
  document.addEventListener("gaitu:add-files", function (event) {
    var input = uploadInput();
    if (!input || !event.detail || !event.detail.files) return;
    if (event.detail.first) {
      var chosen = Array.prototype.slice.call(input.files);
      setFiles(input, []);
      addFiles(input, Array.prototype.slice.call(event.detail.files).concat(chosen));
    } else {
      addFiles(input, event.detail.files);
    }
  });
})();
