// Small comforts on top of htmx. Every page works without this file; with it, pictures can be
// dropped and pasted, previews shown and removed, and before/after compared with a slider.
// No inline handlers and no eval: the Content Security Policy allows neither.
(function () {
  "use strict";

  var ACCEPTED = ["image/jpeg", "image/png", "image/webp", "image/gif"];

  // ---- Language menu: apply the choice at once. ----
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

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

  // ---- Before/after: a slider over the two pictures; side by side on request. ----
  function setUpCompare(root) {
    root.querySelectorAll("[data-compare]").forEach(function (pair) {
      if (pair.dataset.ready) return;
      pair.dataset.ready = "1";
      pair.dataset.view = "compare";
      var range = pair.querySelector("[data-compare-range]");
      var move = function () { pair.style.setProperty("--split", range.value + "%"); };
      range.addEventListener("input", move);
      move();
    });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-toggle-view]");
    if (toggle) {
      var pair = toggle.closest(".edit-card").querySelector("[data-compare]");
      var side = pair.dataset.view === "compare";
      pair.dataset.view = side ? "side" : "compare";
      toggle.setAttribute("aria-pressed", side ? "true" : "false");
      return;
    }
    var pick = event.target.closest("[data-show-result]");
    if (pick) {
      var card = pick.closest(".edit-card");
      card.querySelector("[data-after]").src = pick.dataset.showResult;
      card.querySelector("[data-after-link]").href = pick.dataset.full;
      card.querySelectorAll("[data-show-result]").forEach(function (other) {
        other.setAttribute("aria-pressed", other === pick ? "true" : "false");
      });
    }
  });

  // ---- Share links: copy, and say so on the button. ----
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

  // ---- Elapsed time on running cards, counted here so that a polled card can stay the same
  // (and cost the server a 304) while the seconds go by. ----
  function tick() {
    document.querySelectorAll("[data-elapsed-since]").forEach(function (span) {
      var seconds = Math.max(0, Math.round(Date.now() / 1000 - Number(span.dataset.elapsedSince)));
      span.textContent = seconds + " " + span.dataset.unit;
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:load", tick);

  // ---- Running edits. The server says when one changes (server-sent events, live/views.py);
  // its card then asks for itself, and an unchanged card costs a 304. Without the stream (an
  // old browser, a proxy that holds events back, a dropped connection) each running card
  // asks twice a second until the stream is back. ----
  var stream = null;
  var streamFor = "";

  function runningCards() {
    return Array.prototype.slice.call(document.querySelectorAll(".edit-card[data-live]"));
  }

  function askForNews(card) {
    htmx.trigger(card, "gaitu:changed");
  }

  function follow() {
    var cards = runningCards();
    var ids = cards.map(function (card) { return card.id.replace("edit-", ""); }).sort().join(",");
    if (stream && ids === streamFor) return;
    if (stream) stream.close();
    stream = null;
    streamFor = ids;
    var url = document.body.dataset.liveUrl;
    if (!ids || !url || !window.EventSource) return;
    stream = new EventSource(url + "?ids=" + ids);
    // Whatever changed before the stream was open is asked for once.
    stream.addEventListener("open", function () { runningCards().forEach(askForNews); });
    stream.addEventListener("edit", function (event) {
      var card = document.getElementById("edit-" + event.data);
      if (card) askForNews(card);
    });
    stream.addEventListener("done", function () {
      stream.close();
      stream = null;
    });
  }

  setInterval(function () {
    if (stream && stream.readyState === EventSource.OPEN) return;
    runningCards().forEach(askForNews);
  }, 500);
  document.addEventListener("htmx:load", follow);
  document.addEventListener("DOMContentLoaded", follow);

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
  document.addEventListener("htmx:load", function (event) { setUpCompare(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { setUpCompare(document); });
})();
