// The lightbox: an edit's results at full resolution, the first original as "before", with zoom
// and pan (wheel, pinch, double-tap or double-click, the zoom buttons, + − 0), the before/after
// split and the Before / After / Compare toggle, and the results one after the other (← →, the
// on-screen arrows). Its markup is studio/lightbox_items.html, a <dialog> in each card and on the
// share page: showModal() keeps the focus inside, closes on Esc and makes the page behind inert.
//
// Both pictures sit on one stage that carries the one transform (translate, then scale), so
// they stay aligned at every zoom. The split is a place on the screen, not on the picture: as
// the picture moves under it, the after picture's clip is worked out again in stage pixels.
//
// The full-size pictures are asked for only when the lightbox opens (their URLs wait in
// data-src): a card costs its thumbnails only. No inline styles: the script sets the stage's
// transform and custom properties (--stage-w, --split-x, ...) that lightbox.css uses.
(function () {
  "use strict";

  var ZOOM_STEP = 1.5; // the zoom buttons and + −
  var DOUBLE_TAP_ZOOM = 2;
  var MAX_PIXEL_SCALE = 4; // zoomed in as far as four screen pixels for each picture pixel
  var DOUBLE_TAP_MS = 350;
  var DOUBLE_TAP_SLOP = 30; // px between the two taps of a double tap
  var TAP_SLOP = 8; // px a tap may move and still be a tap, not a drag
  var SPLIT_STEP = 2; // % for an arrow key on the split handle; Page Up/Down move 5 times that

  var lightboxes = new WeakMap();

  function Lightbox(dialog) {
    this.dialog = dialog;
    this.viewport = dialog.querySelector("[data-lightbox-viewport]");
    this.stage = dialog.querySelector("[data-lightbox-stage]");
    this.before = dialog.querySelector("[data-lightbox-before]");
    this.after = dialog.querySelector("[data-lightbox-after]");
    this.handle = dialog.querySelector("[data-lightbox-split]");
    this.status = dialog.querySelector("[data-lightbox-status]");
    this.scaleOutput = dialog.querySelector("[data-lightbox-scale]");
    this.counter = dialog.querySelector("[data-lightbox-counter]");
    this.counterLabel = dialog.querySelector("[data-lightbox-counter-label]");
    this.paint = dialog.querySelector("[data-lightbox-paint]");
    this.items = Array.prototype.slice.call(dialog.querySelectorAll("[data-lightbox-item]"));
    this.index = 0;
    this.size = { width: 0, height: 0 };
    this.opener = null;
    this.split = 50; // % of the visible picture's width, from its left edge
    this.zoom = 1; // 1 = the whole picture fits the viewport
    this.fit = 1; // screen pixels per picture pixel at zoom 1
    this.x = 0; // the stage's top left corner in the viewport
    this.y = 0;
    this.pointers = new Map();
    this.gesture = null;
    this.lastTap = null;
    this.listen();
  }

  Lightbox.prototype.listen = function () {
    var self = this;
    var dialog = this.dialog;
    var viewport = this.viewport;

    dialog.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !dialog.contains(button)) return;
      if (button.hasAttribute("data-lightbox-close")) dialog.close();
      else if (button.dataset.lightboxStep) self.show(self.index + Number(button.dataset.lightboxStep));
      else if (button.dataset.lightboxView) self.setView(button.dataset.lightboxView);
      else if (button.dataset.lightboxZoom === "in") self.zoomAtCentre(self.zoom * ZOOM_STEP);
      else if (button.dataset.lightboxZoom === "out") self.zoomAtCentre(self.zoom / ZOOM_STEP);
      else if (button.dataset.lightboxZoom === "fit") self.zoomAtCentre(1);
    });

    // On the document: a key still works when the focus has gone to nothing in particular.
    document.addEventListener("keydown", function (event) {
      if (!dialog.open) return;
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.target === self.handle) return; // its arrows move the split (below)
      // A key in another dialog above this one (the mask brush, mask.js) is that dialog's.
      var other = event.target.closest && event.target.closest("dialog");
      if (other && other !== dialog) return;
      var key = event.key;
      if (key === "ArrowLeft" || key === "ArrowRight") {
        if (self.items.length < 2) return;
        event.preventDefault();
        self.show(self.index + (key === "ArrowRight" ? 1 : -1));
      } else if (key === "+" || key === "=") {
        event.preventDefault();
        self.zoomAtCentre(self.zoom * ZOOM_STEP);
      } else if (key === "-" || key === "_") {
        event.preventDefault();
        self.zoomAtCentre(self.zoom / ZOOM_STEP);
      } else if (key === "0") {
        event.preventDefault();
        self.zoomAtCentre(1);
      }
    });

    dialog.addEventListener("close", function () { self.closed(); });

    viewport.addEventListener("wheel", function (event) {
      event.preventDefault(); // the page behind must not scroll, nor the browser zoom
      var lines = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? viewport.clientHeight : 1;
      var factor = Math.exp(-event.deltaY * lines / 300);
      var at = self.pointIn(event);
      self.zoomAt(self.zoom * factor, at.x, at.y);
    }, { passive: false });

    viewport.addEventListener("pointerdown", function (event) { self.pointerDown(event); });
    viewport.addEventListener("pointermove", function (event) { self.pointerMove(event); });
    viewport.addEventListener("pointerup", function (event) { self.pointerUp(event, true); });
    viewport.addEventListener("pointercancel", function (event) { self.pointerUp(event, false); });

    if (this.handle) {
      this.handle.addEventListener("pointerdown", function (event) {
        event.stopPropagation(); // dragging the handle moves the split, never the picture
        event.preventDefault();
        self.handle.setPointerCapture(event.pointerId);
        self.handle.focus();
        self.splitTo(event);
      });
      this.handle.addEventListener("pointermove", function (event) {
        if (self.handle.hasPointerCapture(event.pointerId)) self.splitTo(event);
      });
      this.handle.addEventListener("keydown", function (event) { self.splitKey(event); });
    }

    [this.before, this.after].forEach(function (img) {
      if (!img) return;
      img.addEventListener("load", function () { self.loaded(); });
      img.addEventListener("error", function () { self.loaded(); });
    });

    window.addEventListener("resize", function () {
      if (dialog.open) self.layout();
    });
  };

  // ---- Opening, closing, and going from one result to the next. ----
  Lightbox.prototype.open = function (position, opener) {
    this.opener = opener;
    var index = this.items.findIndex(function (item) {
      return item.dataset.lightboxItem === String(position);
    });
    if (!this.dialog.open) this.dialog.showModal();
    if (this.before && !this.before.getAttribute("src")) this.before.src = this.before.dataset.src;
    this.setView(this.before ? "compare" : "after");
    this.show(index < 0 ? 0 : index);
  };

  Lightbox.prototype.closed = function () {
    this.pointers.clear();
    this.gesture = null;
    var opener = this.opener;
    this.opener = null;
    // The browser gives the focus back to what had it; a card swapped meanwhile (htmx) has a
    // new opener in its place, found by the same result.
    if (opener && !opener.isConnected) {
      var card = document.getElementById(this.dialog.id);
      var article = card && card.closest("article");
      opener = article && article.querySelector("[data-lightbox-open]");
    }
    if (opener && opener.isConnected) opener.focus();
    this.dialog.dispatchEvent(new CustomEvent("gaitu:lightbox-closed", {
      bubbles: true, detail: { position: Number(this.items[this.index].dataset.lightboxItem) },
    }));
  };

  Lightbox.prototype.show = function (index) {
    if (index < 0 || index >= this.items.length) return;
    this.index = index;
    var item = this.items[index];
    // The picture's own size, as stored; an img's width would say its size on the screen.
    this.size = { width: Number(item.dataset.width) || 0, height: Number(item.dataset.height) || 0 };
    this.after.setAttribute("width", this.size.width);
    this.after.setAttribute("height", this.size.height);
    if (this.after.getAttribute("src") !== item.dataset.src) this.after.src = item.dataset.src;
    if (this.counter) this.counter.textContent = item.textContent;
    if (this.counterLabel) this.counterLabel.textContent = item.dataset.label;
    var steps = Array.prototype.slice.call(this.dialog.querySelectorAll("[data-lightbox-step]"));
    steps.forEach(function (button) {
      var to = index + Number(button.dataset.lightboxStep);
      var end = to < 0 || to >= this.items.length;
      // At the last result its Next goes; the focus goes to Previous rather than nowhere.
      if (end && document.activeElement === button) {
        var other = steps.filter(function (step) { return step !== button; })[0];
        if (other) other.focus();
      }
      button.disabled = end;
    }, this);
    this.zoom = 1;
    this.layout();
    this.loaded();
    this.pointPaint();
  };

  // "Paint a mask and edit again" is about the picture shown: the original when it is shown
  // alone, else the result (mask.js paints it on the studio page; elsewhere it is a link).
  Lightbox.prototype.pointPaint = function () {
    var paint = this.paint;
    if (!paint) return;
    var item = this.items[this.index];
    var source = this.dialog.dataset.view === "before" && paint.dataset.sourceSrc;
    paint.dataset.paintKind = source ? "source" : "result";
    paint.href = source ? paint.dataset.sourceHref : item.dataset.paintHref;
    paint.dataset.paintSrc = source ? paint.dataset.sourceSrc : item.dataset.src;
    paint.dataset.paintParent = item.dataset.paintParent;
    paint.dataset.paintName = source ? paint.dataset.sourceName : "";
    paint.textContent = source ? paint.dataset.sourceWords : paint.dataset.resultWords;
  };

  // While a picture is still coming, or could not come, the status line says so.
  Lightbox.prototype.loaded = function () {
    var pictures = [this.after];
    if (this.before && this.dialog.dataset.view !== "after") pictures.push(this.before);
    var failed = pictures.some(function (img) { return img.complete && img.naturalWidth === 0; });
    var loading = pictures.some(function (img) { return !img.complete; });
    this.status.textContent = failed ? this.status.dataset.failed
      : loading ? this.status.dataset.loading : "";
    this.dialog.toggleAttribute("data-loading", loading);
    if (!this.size.width && this.after.naturalWidth) { // no size was known: now it is
      this.size = { width: this.after.naturalWidth, height: this.after.naturalHeight };
      this.layout();
    }
  };

  Lightbox.prototype.setView = function (view) {
    this.dialog.dataset.view = view;
    this.dialog.querySelectorAll("[data-lightbox-view]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.dataset.lightboxView === view ? "true" : "false");
    });
    this.loaded();
    this.place();
    this.pointPaint();
  };

  // ---- Zoom and pan: the stage is the picture at its fitting size, scaled by `zoom`. ----
  Lightbox.prototype.pictureSize = function () {
    return { width: this.size.width || 1, height: this.size.height || 1 };
  };

  Lightbox.prototype.layout = function () {
    var size = this.pictureSize();
    var width = this.viewport.clientWidth;
    var height = this.viewport.clientHeight;
    // A small picture is shown at its own size, not blown up: what the person sees at "Fit"
    // is never blurrier than the picture is.
    this.fit = Math.min(width / size.width, height / size.height, 1);
    this.stage.style.setProperty("--stage-w", size.width * this.fit + "px");
    this.stage.style.setProperty("--stage-h", size.height * this.fit + "px");
    this.zoomAt(this.zoom, width / 2, height / 2);
  };

  Lightbox.prototype.maxZoom = function () {
    return Math.max(DOUBLE_TAP_ZOOM, MAX_PIXEL_SCALE / this.fit);
  };

  // Zoom to `zoom`, keeping the picture's point under (atX, atY) (viewport pixels) in its place.
  Lightbox.prototype.zoomAt = function (zoom, atX, atY) {
    var next = Math.min(Math.max(zoom, 1), this.maxZoom());
    this.x = atX - (atX - this.x) * next / this.zoom;
    this.y = atY - (atY - this.y) * next / this.zoom;
    this.zoom = next;
    this.place();
  };

  Lightbox.prototype.zoomAtCentre = function (zoom) {
    this.zoomAt(zoom, this.viewport.clientWidth / 2, this.viewport.clientHeight / 2);
  };

  Lightbox.prototype.pointIn = function (event) {
    var box = this.viewport.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  };

  // Keep the picture on the screen: centred along a side that fits, edge to edge otherwise.
  Lightbox.prototype.place = function () {
    var size = this.pictureSize();
    var viewWidth = this.viewport.clientWidth;
    var viewHeight = this.viewport.clientHeight;
    var width = size.width * this.fit * this.zoom;
    var height = size.height * this.fit * this.zoom;
    this.x = width <= viewWidth ? (viewWidth - width) / 2 : Math.min(0, Math.max(viewWidth - width, this.x));
    this.y = height <= viewHeight ? (viewHeight - height) / 2 : Math.min(0, Math.max(viewHeight - height, this.y));
    this.stage.style.transform = "translate(" + this.x + "px, " + this.y + "px) scale(" + this.zoom + ")";

    // The part of the viewport the picture covers: the split handle and the labels stay on it.
    var left = Math.max(0, this.x);
    var right = Math.min(viewWidth, this.x + width);
    var top = Math.max(0, this.y);
    var bottom = Math.min(viewHeight, this.y + height);
    var splitX = left + (right - left) * this.split / 100;
    var props = {
      "--picture-left": left + "px", "--picture-right": right + "px",
      "--picture-top": top + "px", "--picture-height": bottom - top + "px",
      "--split-x": splitX + "px",
    };
    for (var name in props) this.viewport.style.setProperty(name, props[name]);
    this.stage.style.setProperty("--after-clip", (splitX - this.x) / this.zoom + "px");

    var zoomed = this.zoom > 1.001;
    this.viewport.toggleAttribute("data-zoomed", zoomed);
    this.scaleOutput.textContent = Math.round(this.fit * this.zoom * 100) + "%";
    // aria-disabled, not disabled: the focus stays on a button that has just reached its end.
    this.dialog.querySelector("[data-lightbox-zoom=out]").setAttribute("aria-disabled", String(!zoomed));
    this.dialog.querySelector("[data-lightbox-zoom=fit]").setAttribute("aria-disabled", String(!zoomed));
    this.dialog.querySelector("[data-lightbox-zoom=in]")
      .setAttribute("aria-disabled", String(this.zoom >= this.maxZoom() - 0.001));
  };

  // ---- Pointers: one drags the zoomed picture, two pinch; two quick taps zoom in or back. ----
  Lightbox.prototype.pointerDown = function (event) {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    if (event.target.closest("button")) return;
    event.preventDefault(); // no text selection, no native image drag
    this.viewport.setPointerCapture(event.pointerId);
    this.pointers.set(event.pointerId, this.pointIn(event));
    this.startGesture(event.timeStamp);
  };

  Lightbox.prototype.startGesture = function (time) {
    var points = Array.from(this.pointers.values());
    var base = { x: this.x, y: this.y, zoom: this.zoom };
    if (points.length === 1) {
      // A pan that follows a pinch is never a tap.
      var tap = !this.gesture;
      this.gesture = { kind: "pan", from: points[0], base: base, moved: tap ? 0 : Infinity, time: time };
    } else if (points.length === 2) {
      this.gesture = { kind: "pinch", from: middle(points), distance: distance(points), base: base };
    }
  };

  Lightbox.prototype.pointerMove = function (event) {
    if (!this.pointers.has(event.pointerId) || !this.gesture) return;
    this.pointers.set(event.pointerId, this.pointIn(event));
    var points = Array.from(this.pointers.values());
    var gesture = this.gesture;
    var base = gesture.base;
    if (gesture.kind === "pinch" && points.length === 2) {
      var zoom = Math.min(Math.max(base.zoom * distance(points) / gesture.distance, 1), this.maxZoom());
      var at = middle(points);
      // The picture's point that was under the fingers' middle stays under it.
      this.x = at.x - (gesture.from.x - base.x) * zoom / base.zoom;
      this.y = at.y - (gesture.from.y - base.y) * zoom / base.zoom;
      this.zoom = zoom;
      this.place();
    } else if (gesture.kind === "pan") {
      var dx = points[0].x - gesture.from.x;
      var dy = points[0].y - gesture.from.y;
      gesture.moved = Math.max(gesture.moved, Math.abs(dx) + Math.abs(dy));
      if (this.zoom > 1) {
        this.x = base.x + dx;
        this.y = base.y + dy;
        this.place();
      }
    }
  };

  Lightbox.prototype.pointerUp = function (event, finished) {
    if (!this.pointers.has(event.pointerId)) return;
    var gesture = this.gesture;
    var point = this.pointIn(event);
    this.pointers.delete(event.pointerId);
    if (this.pointers.size === 0) {
      this.gesture = null;
      if (finished && gesture && gesture.kind === "pan" && gesture.moved <= TAP_SLOP) this.tap(point, event.timeStamp);
    } else {
      this.startGesture(event.timeStamp); // one finger left of two: it pans on from here
    }
  };

  Lightbox.prototype.tap = function (point, time) {
    var last = this.lastTap;
    if (last && time - last.time < DOUBLE_TAP_MS &&
        Math.abs(point.x - last.x) + Math.abs(point.y - last.y) < DOUBLE_TAP_SLOP) {
      this.lastTap = null;
      if (this.zoom > 1.001) this.zoomAtCentre(1);
      else this.zoomAt(DOUBLE_TAP_ZOOM, point.x, point.y);
    } else {
      this.lastTap = { x: point.x, y: point.y, time: time };
    }
  };

  function middle(points) {
    return { x: (points[0].x + points[1].x) / 2, y: (points[0].y + points[1].y) / 2 };
  }

  function distance(points) {
    return Math.max(1, Math.hypot(points[0].x - points[1].x, points[0].y - points[1].y));
  }

  // ---- The split: dragged by its handle, or moved with the keys while the handle has focus. ----
  Lightbox.prototype.splitTo = function (event) {
    var left = Math.max(0, this.x);
    var size = this.pictureSize();
    var right = Math.min(this.viewport.clientWidth, this.x + size.width * this.fit * this.zoom);
    this.setSplit((this.pointIn(event).x - left) / Math.max(1, right - left) * 100);
  };

  Lightbox.prototype.splitKey = function (event) {
    var steps = {
      ArrowLeft: -SPLIT_STEP, ArrowDown: -SPLIT_STEP, ArrowRight: SPLIT_STEP, ArrowUp: SPLIT_STEP,
      PageDown: -5 * SPLIT_STEP, PageUp: 5 * SPLIT_STEP, Home: -100, End: 100,
    };
    if (!(event.key in steps)) return;
    event.preventDefault();
    this.setSplit(this.split + steps[event.key]);
  };

  Lightbox.prototype.setSplit = function (percent) {
    this.split = Math.min(100, Math.max(0, percent));
    var shown = Math.round(this.split);
    this.handle.setAttribute("aria-valuenow", String(shown));
    this.handle.setAttribute("aria-valuetext", shown + "%");
    this.place();
  };

  // ---- Any [data-lightbox-open="<result position>"] opens its article's lightbox. ----
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-lightbox-open]");
    if (!opener) return;
    var article = opener.closest("article");
    var dialog = article && article.querySelector("dialog[data-lightbox]");
    if (!dialog || typeof dialog.showModal !== "function") return; // the link, if it is one, opens the picture
    event.preventDefault();
    var lightbox = lightboxes.get(dialog);
    if (!lightbox) {
      lightbox = new Lightbox(dialog);
      lightboxes.set(dialog, lightbox);
    }
    lightbox.open(opener.dataset.lightboxOpen, opener);
  });
})();
