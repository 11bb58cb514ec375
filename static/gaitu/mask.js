// The mask brush: the area of an edit's first picture to change, painted over that picture at
// its own resolution, and handed to the studio form as the PNG the server keeps (editor/forms.py,
// imaging/masks.py): the picture's size, transparent where painted, opaque black elsewhere.
//
// One brush (studio/mask_brush.html, a <dialog> on the studio page) serves the form's first
// picture (a chosen file, or the result an "edit again" starts from) and a lightbox's result or
// original ("Paint a mask and edit again"). Outside the studio that action is a plain link to
// the studio (?again=…&paint=1, or ?original=…&paint=1), which opens the brush once there.
// This file is the brush; mask-form.js is the form's and the lightboxes' side of it.
//
// The canvas is the picture's size and is shown scaled over it; what is painted is drawn opaque
// in the tint colour (mask.css gives the canvas its colour and its translucency). What was done
// is kept as a list of steps (strokes, clear, invert) and drawn again after an undo: a copy of
// a 12-megapixel canvas for each step would be far too heavy for a phone.
(function () {
  "use strict";

  var CHANGE_FROM = 128; // an alpha from this paints "change here" (imaging/masks.py's threshold)
  var PREVIEW_SIDE = 160; // px: the form's small picture of the mask
  var KEY_STEPS = 12; // an arrow moves the brush half its width, and never more than 1/12 of the picture

  // ---- The brush ----------------------------------------------------------------------------
  function Brush(dialog) {
    this.dialog = dialog;
    this.viewport = dialog.querySelector("[data-mask-viewport]");
    this.stage = dialog.querySelector("[data-mask-stage]");
    this.picture = dialog.querySelector("[data-mask-picture]");
    this.canvas = dialog.querySelector("[data-mask-canvas]");
    this.cursor = dialog.querySelector("[data-mask-cursor]");
    this.status = dialog.querySelector("[data-mask-status]");
    this.sizeInput = dialog.querySelector("[data-mask-size]");
    this.sizeShown = dialog.querySelector("[data-mask-size-shown]");
    this.eraser = dialog.querySelector("[data-mask-eraser]");
    this.undoButton = dialog.querySelector("[data-mask-undo]");
    this.clearButton = dialog.querySelector("[data-mask-clear]");
    this.doneButton = dialog.querySelector("[data-mask-done]");
    this.context = this.canvas.getContext("2d");
    this.width = 0;
    this.height = 0;
    this.steps = [];
    this.stroke = null; // the stroke being painted: { erase, width, points }
    this.pointerId = null;
    this.keyPoint = null; // where the keyboard's brush is, in picture pixels
    this.penDown = false;
    this.request = null; // what open() was asked: its callbacks
    this.encoder = new PngEncoder(dialog.dataset.maskEncoder);
    this.listen();
  }

  Brush.prototype.listen = function () {
    var self = this;
    var canvas = this.canvas;
    this.dialog.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      if (button.hasAttribute("data-mask-cancel")) self.finish(null);
      else if (button.hasAttribute("data-mask-done")) self.done();
      else if (button.hasAttribute("data-mask-undo")) self.undo();
      else if (button.hasAttribute("data-mask-clear")) self.add({ kind: "clear" });
      else if (button.hasAttribute("data-mask-invert")) self.add({ kind: "invert" });
      else if (button.hasAttribute("data-mask-eraser")) {
        var on = button.getAttribute("aria-pressed") !== "true";
        button.setAttribute("aria-pressed", String(on));
        self.dialog.toggleAttribute("data-erasing", on);
      }
    });
    // Esc: the dialog's own cancel, which is the brush's Cancel.
    this.dialog.addEventListener("cancel", function (event) {
      event.preventDefault();
      self.finish(null);
    });
    this.dialog.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
        event.preventDefault();
        self.undo();
      }
    });
    this.sizeInput.addEventListener("input", function () { self.sizeChanged(); });

    canvas.addEventListener("pointerdown", function (event) { self.pointerDown(event); });
    canvas.addEventListener("pointermove", function (event) { self.pointerMove(event); });
    canvas.addEventListener("pointerup", function (event) { self.pointerUp(event); });
    canvas.addEventListener("pointercancel", function (event) { self.pointerUp(event); });
    canvas.addEventListener("pointerleave", function (event) {
      if (event.pointerType === "mouse" && self.pointerId === null) self.cursor.hidden = true;
    });
    canvas.addEventListener("keydown", function (event) { self.key(event); });
    canvas.addEventListener("focus", function () {
      if (!canvas.matches(":focus-visible")) return;
      self.keyPoint = self.keyPoint || { x: self.width / 2, y: self.height / 2 };
      self.showCursor(self.keyPoint);
    });
    canvas.addEventListener("blur", function () {
      self.liftPen();
      self.cursor.hidden = true;
    });

    this.picture.addEventListener("load", function () { self.loaded(); });
    this.picture.addEventListener("error", function () { self.say(self.status.dataset.failed); });
    window.addEventListener("resize", function () {
      if (self.dialog.open) self.layout();
    });
  };

  // options: { src: the picture's URL, onDone(mask), onCancel() }. The picture is shown at once;
  // the canvas takes its size once it has loaded.
  Brush.prototype.open = function (options) {
    this.request = options;
    this.steps = [];
    this.stroke = null;
    this.keyPoint = null;
    this.penDown = false;
    this.width = 0;
    this.height = 0;
    this.canvas.width = 1;
    this.canvas.height = 1;
    this.cursor.hidden = true;
    this.eraser.setAttribute("aria-pressed", "false"); // each mask starts with the brush
    this.dialog.removeAttribute("data-erasing");
    this.dialog.setAttribute("data-loading", "");
    this.say(this.status.dataset.loading);
    this.updateButtons();
    if (!this.dialog.open) this.dialog.showModal();
    this.picture.removeAttribute("src");
    this.picture.src = options.src;
    if (this.picture.complete && this.picture.naturalWidth) this.loaded();
  };

  Brush.prototype.loaded = function () {
    if (!this.dialog.open || this.width) return;
    this.width = this.picture.naturalWidth;
    this.height = this.picture.naturalHeight;
    this.canvas.width = this.width;
    this.canvas.height = this.height;
    this.dialog.removeAttribute("data-loading");
    this.say("");
    this.layout();
    this.redraw();
    this.canvas.focus({ preventScroll: true });
  };

  Brush.prototype.say = function (words) {
    this.status.textContent = words || "";
  };

  // The stage is the picture as large as the viewport lets it be, its shape kept.
  Brush.prototype.layout = function () {
    if (!this.width) return;
    var fit = Math.min(this.viewport.clientWidth / this.width, this.viewport.clientHeight / this.height);
    this.stage.style.setProperty("--stage-w", this.width * fit + "px");
    this.stage.style.setProperty("--stage-h", this.height * fit + "px");
    this.sizeChanged();
  };

  // Picture pixels per screen pixel: the brush is sized as the person sees it.
  Brush.prototype.pixelsPerScreenPixel = function () {
    var shown = this.canvas.getBoundingClientRect().width;
    return shown ? this.width / shown : 1;
  };

  Brush.prototype.brushWidth = function () {
    return Number(this.sizeInput.value) * this.pixelsPerScreenPixel();
  };

  Brush.prototype.sizeChanged = function () {
    if (this.sizeShown) this.sizeShown.textContent = this.sizeInput.value;
    this.stage.style.setProperty("--brush-d", this.sizeInput.value + "px");
  };

  Brush.prototype.erasing = function () {
    return this.eraser.getAttribute("aria-pressed") === "true";
  };

  // ---- Painting: the steps, drawn on the canvas ----
  // The tint's colour (mask.css: the canvas's color). Only the alpha is the mask; mask.css
  // outlines what is painted, so that it shows on a picture of the tint's own colour too.
  Brush.prototype.tint = function () {
    return window.getComputedStyle(this.canvas).color || "rgb(0, 0, 0)";
  };

  Brush.prototype.apply = function (step, from) {
    var context = this.context;
    context.save();
    if (step.kind === "clear") {
      context.clearRect(0, 0, this.width, this.height);
    } else if (step.kind === "invert") {
      context.globalCompositeOperation = "xor";
      context.fillStyle = this.tint();
      context.fillRect(0, 0, this.width, this.height);
    } else {
      context.globalCompositeOperation = step.erase ? "destination-out" : "source-over";
      context.strokeStyle = context.fillStyle = this.tint();
      context.lineWidth = step.width;
      context.lineCap = "round";
      context.lineJoin = "round";
      var points = step.points;
      var start = from || 0;
      if (points.length === 1) {
        context.beginPath();
        context.arc(points[0].x, points[0].y, step.width / 2, 0, 2 * Math.PI);
        context.fill();
      } else {
        context.beginPath();
        context.moveTo(points[Math.max(0, start - 1)].x, points[Math.max(0, start - 1)].y);
        for (var i = Math.max(1, start); i < points.length; i += 1) context.lineTo(points[i].x, points[i].y);
        context.stroke();
      }
    }
    context.restore();
  };

  Brush.prototype.redraw = function () {
    this.context.clearRect(0, 0, this.width, this.height);
    this.steps.forEach(function (step) { this.apply(step); }, this);
  };

  Brush.prototype.add = function (step) {
    if (!this.width) return;
    this.steps.push(step);
    this.apply(step);
    this.updateButtons();
  };

  Brush.prototype.undo = function () {
    if (this.stroke || !this.steps.length) return;
    this.steps.pop();
    this.redraw();
    this.updateButtons();
  };

  Brush.prototype.updateButtons = function () {
    var some = this.steps.length > 0;
    this.undoButton.disabled = !some;
    this.clearButton.disabled = !some;
    this.doneButton.disabled = !some;
  };

  Brush.prototype.startStroke = function (point) {
    this.stroke = { kind: "stroke", erase: this.erasing(), width: this.brushWidth(), points: [point] };
    this.steps.push(this.stroke);
    this.apply(this.stroke);
  };

  Brush.prototype.extendStroke = function (point) {
    var points = this.stroke.points;
    var last = points[points.length - 1];
    if (Math.abs(last.x - point.x) + Math.abs(last.y - point.y) < 0.5) return;
    points.push(point);
    this.apply(this.stroke, points.length - 1);
  };

  Brush.prototype.endStroke = function () {
    this.stroke = null;
    this.updateButtons();
  };

  // ---- Pointers: a mouse, a pen or a finger paints; the cursor shows the brush's size ----
  Brush.prototype.pointAt = function (event) {
    var box = this.canvas.getBoundingClientRect();
    return {
      x: Math.min(this.width, Math.max(0, (event.clientX - box.left) * this.width / box.width)),
      y: Math.min(this.height, Math.max(0, (event.clientY - box.top) * this.height / box.height)),
    };
  };

  Brush.prototype.pointerDown = function (event) {
    if (!this.width || this.pointerId !== null) return;
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    this.liftPen();
    this.pointerId = event.pointerId;
    try { this.canvas.setPointerCapture(event.pointerId); } catch (_error) { /* already gone */ }
    var point = this.pointAt(event);
    this.startStroke(point);
    this.showCursor(point, event.pointerType !== "mouse");
  };

  Brush.prototype.pointerMove = function (event) {
    if (!this.width) return;
    var point = this.pointAt(event);
    if (event.pointerId !== this.pointerId) {
      if (event.pointerType === "mouse") this.showCursor(point);
      return;
    }
    var events = typeof event.getCoalescedEvents === "function" ? event.getCoalescedEvents() : [];
    if (!events.length) events = [event];
    events.forEach(function (each) { this.extendStroke(this.pointAt(each)); }, this);
    this.showCursor(point, event.pointerType !== "mouse");
  };

  Brush.prototype.pointerUp = function (event) {
    if (event.pointerId !== this.pointerId) return;
    this.pointerId = null;
    this.endStroke();
    if (event.pointerType !== "mouse") this.cursor.hidden = true;
  };

  Brush.prototype.showCursor = function (point, hide) {
    this.cursor.hidden = Boolean(hide);
    this.stage.style.setProperty("--cursor-x", point.x / this.width * 100 + "%");
    this.stage.style.setProperty("--cursor-y", point.y / this.height * 100 + "%");
  };

  // ---- The keyboard: arrows move the brush, Space puts it down and lifts it ----
  Brush.prototype.key = function (event) {
    if (!this.width || event.altKey || event.ctrlKey || event.metaKey) return;
    var moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    var point = this.keyPoint || { x: this.width / 2, y: this.height / 2 };
    if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      if (this.penDown) {
        this.liftPen();
      } else {
        this.penDown = true;
        this.startStroke(point);
        this.say(this.status.dataset.penDown);
      }
      this.showCursor(point);
    } else if (moves[event.key]) {
      event.preventDefault();
      var step = Math.max(1, Math.min(this.brushWidth() / 2,
        Math.max(this.width, this.height) / KEY_STEPS)) * (event.shiftKey ? 4 : 1);
      point = {
        x: Math.min(this.width, Math.max(0, point.x + moves[event.key][0] * step)),
        y: Math.min(this.height, Math.max(0, point.y + moves[event.key][1] * step)),
      };
      if (this.penDown && this.stroke) this.extendStroke(point);
      this.showCursor(point);
    } else {
      return;
    }
    this.keyPoint = point;
  };

  Brush.prototype.liftPen = function () {
    if (!this.penDown) return;
    this.penDown = false;
    this.endStroke();
    this.say(this.status.dataset.penUp);
  };

  // ---- Done: the mask as the server wants it, and a small picture of it for the form ----
  Brush.prototype.done = function () {
    var self = this;
    this.liftPen();
    if (!this.width || !this.steps.length) return;
    this.doneButton.disabled = true;
    exportMask(this.canvas, this.encoder, function (mask) {
      self.doneButton.disabled = false;
      if (!mask) return;
      if (!mask.changed) {
        self.updateButtons();
        self.doneButton.disabled = true; // nothing painted: there is nothing to hand over
        return;
      }
      preview(self.picture, self.canvas, self.encoder, function (previewBlob) {
        mask.preview = previewBlob;
        self.finish(mask);
      });
    });
  };

  Brush.prototype.finish = function (mask) {
    var request = this.request;
    this.request = null;
    this.liftPen();
    this.pointerId = null;
    this.stroke = null;
    if (this.dialog.open) this.dialog.close();
    if (!request) return;
    if (mask && request.onDone) request.onDone(mask);
    if (!mask && request.onCancel) request.onCancel();
  };

  // Opaque black where nothing is painted, transparent where it is, nothing in between: what
  // imaging.masks keeps and the images API wants. { file, changed (pixels), total, percent }.
  function exportMask(canvas, encoder, done) {
    var width = canvas.width;
    var height = canvas.height;
    var painted = canvas.getContext("2d").getImageData(0, 0, width, height);
    var pixels = painted.data;
    var changed = 0;
    for (var i = 0; i < pixels.length; i += 4) {
      var change = pixels[i + 3] >= CHANGE_FROM;
      if (change) changed += 1;
      pixels[i] = 0;
      pixels[i + 1] = 0;
      pixels[i + 2] = 0;
      pixels[i + 3] = change ? 0 : 255;
    }
    encoder.encode(painted, function (blob) {
      if (!blob) {
        done(null);
        return;
      }
      done({
        file: new File([blob], "mask.png", { type: "image/png" }),
        changed: changed,
        total: width * height,
        percent: changed / (width * height) * 100,
      });
    });
  }

  // ---- PNG encoding: in a worker (mask-encoder.js) where the browser can, else on the page ----
  function PngEncoder(url) {
    this.url = url;
    this.worker = null;
    this.waiting = {}; // id -> { pixels, done }: the pixels stay, to encode here if the worker fails
    this.asked = 0;
    this.usable = Boolean(url) && typeof Worker === "function" && typeof OffscreenCanvas === "function";
  }

  PngEncoder.prototype.encode = function (pixels, done) {
    var worker = this.usable && this.start();
    if (!worker) {
      encodeHere(pixels, done);
      return;
    }
    this.asked += 1;
    this.waiting[this.asked] = { pixels: pixels, done: done };
    // Copied, not transferred: the page keeps the pixels for encodeHere if the worker fails.
    worker.postMessage({ id: this.asked, width: pixels.width, height: pixels.height, pixels: pixels.data.buffer });
  };

  PngEncoder.prototype.start = function () {
    if (this.worker) return this.worker;
    var self = this;
    try {
      this.worker = new Worker(this.url);
    } catch (_error) {
      this.usable = false;
      return null;
    }
    this.worker.addEventListener("message", function (event) {
      var asked = self.waiting[event.data.id];
      if (!asked) return;
      delete self.waiting[event.data.id];
      if (event.data.blob) asked.done(event.data.blob);
      else encodeHere(asked.pixels, asked.done);
    });
    // The worker could not start (its script did not load): what it was asked is encoded here.
    this.worker.addEventListener("error", function () {
      self.usable = false;
      self.worker = null;
      var waiting = self.waiting;
      self.waiting = {};
      Object.keys(waiting).forEach(function (id) { encodeHere(waiting[id].pixels, waiting[id].done); });
    });
    return this.worker;
  };

  function encodeHere(pixels, done) {
    var out = document.createElement("canvas");
    out.width = pixels.width;
    out.height = pixels.height;
    out.getContext("2d").putImageData(pixels, 0, 0);
    out.toBlob(function (blob) { done(blob); }, "image/png");
  }

  // The picture, small, with the painted area tinted over it.
  function preview(picture, painted, encoder, done) {
    var scale = Math.min(1, PREVIEW_SIDE / Math.max(painted.width, painted.height));
    var small = document.createElement("canvas");
    small.width = Math.max(1, Math.round(painted.width * scale));
    small.height = Math.max(1, Math.round(painted.height * scale));
    var context = small.getContext("2d");
    var pixels;
    try {
      context.drawImage(picture, 0, 0, small.width, small.height);
      context.globalAlpha = 0.55;
      context.drawImage(painted, 0, 0, small.width, small.height);
      pixels = context.getImageData(0, 0, small.width, small.height);
    } catch (_error) {
      done(null); // a picture the page may not read back: the form shows the words alone
      return;
    }
    encoder.encode(pixels, done);
  }

  var brush = null;

  function theBrush() {
    if (brush) return brush;
    var dialog = document.querySelector("dialog[data-mask-brush]");
    if (!dialog || typeof dialog.showModal !== "function") return null;
    brush = new Brush(dialog);
    return brush;
  }

  // The studio form's side (mask-form.js) asks for the brush by this name.
  window.gaituMaskBrush = theBrush;
})();
