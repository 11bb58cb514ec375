// The studio form's side of the mask brush (mask.js): the form keeps the mask of the first
// picture it was painted on, drops it when that picture changes or the mode is a batch, says
// when the chosen models are only shown it, and takes a lightbox's result or original to paint.
(function () {
  "use strict";

  function theBrush() {
    return window.gaituMaskBrush ? window.gaituMaskBrush() : null;
  }

  // ---- The studio form: its mask, kept for the first picture it was painted on ----------------
  function theForm() {
    return document.querySelector("#upload-form");
  }

  function fieldOf(form) {
    return form && form.querySelector("[data-mask-field]");
  }

  var kept = null; // { key: the first picture it belongs to, previewUrl }

  function fileKey(file) {
    return "file:" + file.name + ":" + file.size + ":" + file.lastModified;
  }

  // The form's first picture, as the server will take it: the "edit again" result, else the
  // first file chosen. A link's picture is fetched by the server, and may not be shown here.
  function firstPicture(form) {
    var parent = form.querySelector("input[name=parent]");
    var shown = form.querySelector("[data-parent][data-full]");
    if (parent && parent.value && shown) return { key: "parent:" + parent.value, src: shown.dataset.full };
    var files = form.querySelector("input[name=images]").files;
    if (files.length) return { key: fileKey(files[0]), file: files[0] };
    return null;
  }

  function modeOf(form) {
    var checked = form.querySelector("input[name=mode]:checked");
    return checked ? checked.value : "single";
  }

  function chosenModels(form) {
    if (modeOf(form) === "compare") {
      return Array.prototype.map.call(form.querySelectorAll("input[name=models]:checked"),
        function (box) { return box.value; });
    }
    var select = form.querySelector("select[name=model]");
    return select && select.value ? [select.value] : [];
  }

  function honouredModels(field) {
    try { return JSON.parse(field.dataset.maskHonouredModels || "[]"); } catch (_error) { return []; }
  }

  function percentWords(percent) {
    if (percent > 0 && percent < 1) return "<1%";
    if (percent < 100 && percent > 99) return ">99%";
    return Math.round(percent) + "%";
  }

  // What the form shows: the button once there is a picture to paint on (not in a batch, which
  // refuses a mask), the mask's small picture and its share of the picture once there is one.
  function follow() {
    var form = theForm();
    var field = fieldOf(form);
    if (!field) return;
    var first = firstPicture(form);
    var batch = modeOf(form) === "batch";
    if (kept && (batch || !first || first.key !== kept.key)) dropMask(form);
    field.hidden = batch || !first;
    var chosen = field.querySelector("[data-mask-chosen]");
    chosen.hidden = !kept;
    field.querySelectorAll("[data-mask-open]").forEach(function (button) {
      button.textContent = kept ? button.dataset.again : button.dataset.first;
    });
    var honoured = honouredModels(field);
    var loose = chosenModels(form).some(function (name) { return honoured.indexOf(name) === -1; });
    field.querySelector("[data-mask-loose]").hidden = !kept || !loose;
  }

  function setMask(form, key, mask) {
    var field = fieldOf(form);
    var input = form.querySelector("input[name=mask]");
    var transfer = new DataTransfer();
    transfer.items.add(mask.file);
    input.files = transfer.files;
    if (kept && kept.previewUrl) URL.revokeObjectURL(kept.previewUrl);
    kept = { key: key, previewUrl: mask.preview ? URL.createObjectURL(mask.preview) : "" };
    var thumb = field.querySelector("[data-mask-thumb]");
    thumb.hidden = !kept.previewUrl;
    if (kept.previewUrl) thumb.src = kept.previewUrl;
    var coverage = field.querySelector("[data-mask-coverage]");
    coverage.textContent = coverage.dataset.format.replace("{percent}", percentWords(mask.percent));
    var errors = form.querySelector("#mask-errors");
    if (errors) errors.replaceChildren();
    follow();
  }

  function dropMask(form) {
    var input = form.querySelector("input[name=mask]");
    if (input) input.value = "";
    if (kept && kept.previewUrl) URL.revokeObjectURL(kept.previewUrl);
    kept = null;
    var thumb = form.querySelector("[data-mask-thumb]");
    if (thumb) thumb.removeAttribute("src");
  }

  function paintFirstPicture(form) {
    var first = firstPicture(form);
    var painter = theBrush();
    if (!first || !painter) return;
    var src = first.file ? URL.createObjectURL(first.file) : first.src;
    var release = function () { if (first.file) URL.revokeObjectURL(src); };
    painter.open({
      src: src,
      onDone: function (mask) {
        release();
        setMask(form, first.key, mask);
        var instruction = form.querySelector("textarea[name=instruction]");
        if (instruction) instruction.focus();
      },
      onCancel: release,
    });
  }

  document.addEventListener("click", function (event) {
    var form = theForm();
    if (!form) return;
    if (event.target.closest("#upload-form [data-mask-open]")) {
      paintFirstPicture(form);
    } else if (event.target.closest("#upload-form [data-mask-remove]")) {
      dropMask(form);
      follow();
      var open = form.querySelector("[data-mask-open]");
      if (open) open.focus();
    }
  });

  document.addEventListener("gaitu:pictures-changed", follow);
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("#upload-form")) follow();
  });
  // The model picker's options come after the page: the note about the mask follows them.
  document.addEventListener("htmx:afterSwap", follow);

  // ---- From a lightbox: a result or an original becomes the form's first picture ------------
  // "Edit this result again" in place: the result is the form's parent, shown as the server
  // shows one (the form's <template data-parent-template>).
  function useParent(form, value, src) {
    form.querySelector("input[name=parent]").value = value;
    form.querySelectorAll("[data-parent]").forEach(function (old) { old.remove(); });
    var template = form.querySelector("template[data-parent-template]");
    var shown = template.content.firstElementChild.cloneNode(true);
    shown.dataset.full = src;
    shown.querySelector("img").src = src;
    var problem = form.querySelector("#parent-problem");
    problem.replaceChildren();
    problem.removeAttribute("class");
    problem.removeAttribute("role");
    problem.after(shown);
  }

  function singleMode(form) {
    var single = form.querySelector("input[name=mode][value=single]");
    if (single && modeOf(form) === "batch") {
      single.checked = true;
      single.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function pictureChanged(form) {
    form.dispatchEvent(new CustomEvent("gaitu:pictures-changed", { bubbles: true }));
  }

  function filled(form) {
    var instruction = form.querySelector("textarea[name=instruction]");
    form.scrollIntoView({ block: "start" });
    if (instruction) instruction.focus({ preventScroll: true });
  }

  // The lightbox gives the focus back to its opener once it has closed (its "close" event):
  // what comes next is done after that, so that the focus goes where it should.
  function closeThen(lightbox, next) {
    if (!lightbox || !lightbox.open) {
      next();
      return;
    }
    lightbox.addEventListener("close", next, { once: true });
    lightbox.close();
  }

  // A result: painted where it is; Done makes it the form's parent with the mask.
  function paintResult(form, value, src, lightbox) {
    var painter = theBrush();
    painter.open({
      src: src,
      onDone: function (mask) {
        singleMode(form);
        useParent(form, value, src);
        pictureChanged(form);
        setMask(form, "parent:" + value, mask);
        closeThen(lightbox, function () { filled(form); });
      },
    });
  }

  // An original: its bytes become the form's first file (the parent, if any, goes: it would
  // come first), painted once they are here.
  function paintOriginal(form, src, name, lightbox) {
    var painter = theBrush();
    var input = form.querySelector("input[name=images]");
    fetch(src, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.blob();
    }).then(function (blob) {
      var file = new File([blob], name || "original", { type: blob.type, lastModified: Date.now() });
      var objectUrl = URL.createObjectURL(file);
      painter.open({
        src: objectUrl,
        onDone: function (mask) {
          URL.revokeObjectURL(objectUrl);
          singleMode(form);
          form.querySelector("input[name=parent]").value = "";
          form.querySelectorAll("[data-parent]").forEach(function (old) { old.remove(); });
          input.dispatchEvent(new CustomEvent("gaitu:add-files",
            { bubbles: true, detail: { files: [file], first: true } }));
          if (input.files.length && fileKey(input.files[0]) === fileKey(file)) {
            setMask(form, fileKey(file), mask);
          }
          closeThen(lightbox, function () { filled(form); });
        },
        onCancel: function () { URL.revokeObjectURL(objectUrl); },
      });
    }).catch(function () {
      painter.open({ src: src }); // the brush says the picture could not be loaded
    });
  }

  document.addEventListener("click", function (event) {
    var action = event.target.closest("[data-lightbox-paint]");
    var form = theForm();
    if (!action || !form || !fieldOf(form) || !theBrush()) return; // elsewhere: the link
    event.preventDefault();
    var lightbox = action.closest("dialog");
    if (action.dataset.paintKind === "source") {
      paintOriginal(form, action.dataset.paintSrc, action.dataset.paintName, lightbox);
    } else {
      paintResult(form, action.dataset.paintParent, action.dataset.paintSrc, lightbox);
    }
  });

  // ---- Come from a lightbox outside the studio: ?again=…&paint=1, or ?original=…&paint=1 ----
  var ORIGINAL = /^([0-9a-f-]{36}):(\d+)$/i;

  function paintOnArrival() {
    var form = theForm();
    var field = fieldOf(form);
    var query = new URLSearchParams(window.location.search);
    if (!field || query.get("paint") !== "1") return;
    // Once: a reload or the way back does not open the brush again.
    var rest = window.location.search.slice(1).split("&")
      .filter(function (part) { return part !== "paint=1"; }).join("&");
    window.history.replaceState(window.history.state, "",
      window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
    var original = ORIGINAL.exec(query.get("original") || "");
    if (original && field.dataset.originalUrl) {
      // The URL of the first original of a made-up edit, made that of the one asked for.
      var src = field.dataset.originalUrl.replace(field.dataset.originalEdit + "/source/0/",
        original[1] + "/source/" + original[2] + "/");
      paintOriginal(form, src, "original", null);
    } else if (firstPicture(form)) {
      paintFirstPicture(form);
    }
  }

  function start() {
    follow();
    paintOnArrival();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
