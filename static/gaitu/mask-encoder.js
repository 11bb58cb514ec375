// The mask brush's PNG encoder (mask.js), in a worker. On the page's own thread Chromium
// encodes canvas.toBlob in idle time only, starting it unprompted a second after it was asked
// (four on a phone) and finishing it by force seconds later, so "Done" could wait that long.
// In a worker the encode starts at once.
"use strict";

self.addEventListener("message", function (event) {
  var width = event.data.width;
  var height = event.data.height;
  try {
    var canvas = new OffscreenCanvas(width, height);
    var pixels = new ImageData(new Uint8ClampedArray(event.data.pixels), width, height);
    canvas.getContext("2d").putImageData(pixels, 0, 0);
    canvas.convertToBlob({ type: "image/png" }).then(
      function (blob) { self.postMessage({ id: event.data.id, blob: blob }); },
      function () { self.postMessage({ id: event.data.id, blob: null }); }
    );
  } catch (_error) {
    self.postMessage({ id: event.data.id, blob: null });
  }
});
