// The studio form's modes and options: what the form is about to do (create a picture from the
// words, edit, compare models, a batch) said in its heading, the instruction's label and its
// button as pictures come and go and the mode changes; the options the chosen model honours
// (the form's data-model-offers, editor/model_options.py, and those of the models the gateway
// lists, which come with the model picker's options: studio/views/studio.py); a custom
// size; and, on a phone, the options folded into one line that says what is chosen.
// Without scripts every control is shown (studio-noscript.css) and the server's wording is one
// that is true whichever the form does.
(function () {
  "use strict";

  var DESKTOP = window.matchMedia("(min-width: 960px)");

  function theForm() {
    return document.querySelector("#upload-form[data-make-form]");
  }

  function modeOf(form) {
    var checked = form.querySelector("input[name=mode]:checked");
    return checked ? checked.value : "single";
  }

  // Pictures the form will send: files, a link, and the result an "edit again" starts from.
  function pictureCount(form) {
    var files = form.querySelector("input[name=images]");
    var link = form.querySelector("input[name=image_url]");
    var parent = form.querySelector("input[name=parent]");
    return (files ? files.files.length : 0) + (link && link.value.trim() ? 1 : 0)
      + (parent && parent.value ? 1 : 0);
  }

  // Which of the words to use: compare and batch say so; one edit says create or edit.
  function wordsFor(mode, pictures) {
    if (mode === "compare" || mode === "batch") return mode;
    return pictures ? "edit" : "create";
  }

  function sayWhatItDoes(form, mode, pictures) {
    var kind = wordsFor(mode, pictures);
    form.querySelectorAll("[data-make-words]").forEach(function (element) {
      // Words that have nothing of their own for a mode (the instruction's label) say
      // whether there is a picture to change.
      var words = element.dataset[kind] || element.dataset[pictures ? "edit" : "create"];
      if (words) element.textContent = words.replace("{count}", String(pictures));
    });
  }

  // Shown only where it applies; what is hidden is not sent either.
  function show(element, shown) {
    if (!element) return;
    element.hidden = !shown;
    element.querySelectorAll("input, select, textarea").forEach(function (control) {
      control.disabled = !shown;
    });
  }

  function followMode(form, mode) {
    show(form.querySelector("[data-compare-models]"), mode === "compare");
    show(form.querySelector("[data-single-model]"), mode !== "compare");
    form.querySelectorAll("[data-for-mode]").forEach(function (hint) {
      hint.hidden = hint.dataset.forMode.split(" ").indexOf(mode) === -1;
    });
    // A batch takes more pictures than one edit: the drop zone's limit follows (upload.js).
    var zone = form.querySelector("[data-dropzone]");
    var batch = mode === "batch";
    zone.dataset.maxInputs = batch ? zone.dataset.maxBatch : zone.dataset.maxSingle;
    zone.dataset.msgCount = batch ? zone.dataset.msgCountBatch : zone.dataset.msgCountSingle;
    // Switched to a mode that takes fewer pictures than chosen (a batch's, for one edit): they
    // are kept, and that is said; switched to one that takes them all, it is no longer said.
    var box = form.querySelector("[data-client-error]");
    var files = form.querySelector("input[name=images]").files.length;
    if (!box || form.dataset.mode === mode) return;
    if (files > parseInt(zone.dataset.maxInputs, 10)) {
      box.textContent = zone.dataset.msgCount;
      box.hidden = false;
    } else if ([zone.dataset.msgCountBatch, zone.dataset.msgCountSingle].indexOf(box.textContent) !== -1) {
      box.textContent = "";
      box.hidden = true;
    }
  }

  // What each model offers: the page's, and those that came with the gateway's models.
  var extraOffers = {};

  function offersByModel(form) {
    var known = {};
    try { known = JSON.parse(form.dataset.modelOffers || "{}"); } catch (_error) { known = {}; }
    return Object.assign(known, extraOffers);
  }

  // What the models the form will ask offer, together: an option is shown when one of them
  // honours it. Unknown (no model chosen yet, or one nobody described): all of them.
  function offersOf(form, mode) {
    var chosen = mode === "compare"
      ? form.querySelectorAll("input[name=models]:checked")
      : form.querySelectorAll("select[name=model] option:checked");
    var byModel = offersByModel(form);
    var offers = null;
    Array.prototype.forEach.call(chosen, function (choice) {
      var own = byModel[choice.value];
      if (!own) return;
      offers = offers || { size: false, n: false, quality: false };
      Object.keys(offers).forEach(function (key) { offers[key] = offers[key] || Boolean(own[key]); });
    });
    return offers || { size: true, n: true, quality: true };
  }

  function followOffers(form, mode) {
    var offers = offersOf(form, mode);
    var size = form.querySelector("select[name=size]");
    show(form.querySelector("[data-option=size]"), offers.size);
    show(form.querySelector("[data-custom-size]"), offers.size && size.value === "custom");
    show(form.querySelector("[data-option=n]"), offers.n);
    show(form.querySelector("[data-option=quality]"), offers.quality);
  }

  // "Options: 16:9 · 2 results": what is chosen, in the folded line a phone shows.
  function summarise(form) {
    var summary = form.querySelector("[data-options-summary]");
    if (!summary) return;
    var parts = [];
    var size = form.querySelector("select[name=size]");
    if (!size.disabled && size.value === "custom") {
      var width = form.querySelector("input[name=width]").value;
      var height = form.querySelector("input[name=height]").value;
      if (width && height) parts.push(width + "×" + height);
    } else if (!size.disabled && size.value) {
      parts.push(size.selectedOptions[0].textContent.trim());
    }
    var n = form.querySelector("select[name=n]");
    if (!n.disabled && parseInt(n.value, 10) > 1) {
      parts.push(summary.dataset.results.replace("{count}", n.value));
    }
    var quality = form.querySelector("select[name=quality]");
    if (!quality.disabled && quality.value) {
      parts.push(summary.dataset.quality.replace("{quality}",
        quality.selectedOptions[0].textContent.trim()));
    }
    summary.textContent = parts.length
      ? summary.dataset.format.replace("{chosen}", parts.join(" · "))
      : summary.dataset.plain;
  }

  function update() {
    var form = theForm();
    if (!form) return;
    var mode = modeOf(form);
    var pictures = pictureCount(form);
    followMode(form, mode);
    form.dataset.mode = mode;
    followOffers(form, mode);
    sayWhatItDoes(form, mode, pictures);
    summarise(form);
  }

  // On a desktop the options are open in a row (their summary line is not shown); on a phone
  // folded, unless something in them needs the person's eye.
  function fold(form) {
    var options = form.querySelector("[data-make-options]");
    if (!options) return;
    options.open = DESKTOP.matches || Boolean(options.querySelector(".errors .errorlist"));
  }

  function start() {
    var form = theForm();
    if (!form) return;
    fold(form);
    update();
  }

  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("#upload-form[data-make-form]")) update();
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("#upload-form [name=image_url], "
      + "#upload-form [name=width], #upload-form [name=height]")) update();
  });
  document.addEventListener("gaitu:pictures-changed", update);
  DESKTOP.addEventListener("change", function () {
    var form = theForm();
    if (form) fold(form);
  });

  // The model picker's options, loaded after the page, carry their offers; a refusal may say
  // something about the options, which a folded phone must then show.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.matches("#upload-form select[name=model]")) update();
  });
  document.addEventListener("gaitu:model-offers", function (event) {
    if (event.detail && event.detail.offers) Object.assign(extraOffers, event.detail.offers);
    update();
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "width-errors" && target.textContent.trim()) {
      var options = target.closest("[data-make-options]");
      if (options) options.open = true;
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
