// The share page: the visitor picks which original and which result the slider compares;
// Download and the full-size view follow the picked result. The slider itself is compare.js's.
(function () {
  "use strict";

  // The stage takes the picked result's shape, as compare.js gives it the first one's.
  function fitStage(page, pick) {
    var stage = page.querySelector("[data-shared-stage]");
    if (stage) stage.style.setProperty("--ratio", pick.dataset.width + " / " + pick.dataset.height);
  }

  function show(img, pick) {
    img.width = Number(pick.dataset.width);
    img.height = Number(pick.dataset.height);
    img.srcset = pick.dataset.srcset;
    img.src = pick.dataset.src;
    img.alt = pick.dataset.label;
  }

  document.addEventListener("click", function (event) {
    var pick = event.target.closest("[data-pick]");
    if (!pick) return;
    var page = pick.closest("[data-shared]");
    var kind = pick.dataset.pick;  // "source" or "result"
    var img = page.querySelector(kind === "source" ? "[data-shared-before]" : "[data-shared-after]");
    if (img) show(img, pick);
    var download = page.querySelector('[data-shared-download="' + kind + '"]');
    if (download) download.href = pick.dataset.download;
    if (kind === "result") {
      var zoom = page.querySelector("[data-shared-zoom]");
      if (zoom) zoom.dataset.lightboxOpen = pick.dataset.position;
      fitStage(page, pick);
    }
    page.querySelectorAll('[data-pick="' + kind + '"]').forEach(function (other) {
      other.setAttribute("aria-pressed", other === pick ? "true" : "false");
    });
  });
})();
