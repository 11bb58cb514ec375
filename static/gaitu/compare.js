// Before/after: a slider over the two pictures, side by side on request; the result picker.
(function () {
  "use strict";

  // The stage takes the result's shape (its width and height attributes), so that the
  // pictures fill it and the slider's line runs over the picture, never over empty bands.
  function fitStage(pair, width, height) {
    if (width > 0 && height > 0) pair.style.setProperty("--ratio", width + " / " + height);
  }

  // ---- Before/after: a slider over the two pictures; side by side on request. ----
  function setUpCompare(root) {
    root.querySelectorAll(".pair[data-compare]").forEach(function (pair) {
      if (pair.dataset.ready) return;
      pair.dataset.ready = "1";
      pair.dataset.view = "compare";
      var after = pair.querySelector("[data-after]");
      fitStage(pair, Number(after.getAttribute("width")), Number(after.getAttribute("height")));
      var range = pair.querySelector("[data-compare-range]");
      var move = function () { pair.style.setProperty("--split", range.value + "%"); };
      range.addEventListener("input", move);
      move();
    });
  }

  // Everything on the card that is about "the result" follows the one shown: the picture,
  // its link, the download, "edit again" and where the lightbox opens. The card starts on the
  // chosen one (the server shows it first); "Use this one" makes the one shown the chosen one.
  function showResult(pick) {
    var card = pick.closest(".edit-card");
    var after = card.querySelector("[data-after]");
    after.srcset = pick.dataset.srcset;
    after.src = pick.dataset.src;
    after.setAttribute("width", pick.dataset.width);
    after.setAttribute("height", pick.dataset.height);
    // A generation's pair has no slider, but takes the result's shape all the same.
    var pair = card.querySelector(".pair");
    if (pair) fitStage(pair, Number(pick.dataset.width), Number(pick.dataset.height));
    var choose = card.querySelector("[data-choose-form]");
    if (choose) {
      choose.action = pick.dataset.choose;
      choose.setAttribute("hx-post", pick.dataset.choose);
      choose.hidden = pick.dataset.showResult === choose.dataset.chosen;
      if (window.htmx) htmx.process(choose);
    }
    card.querySelector("[data-after-link]").href = pick.dataset.full;
    card.querySelector("[data-download-result]").href = pick.dataset.download;
    card.querySelector("[data-again-link]").href = pick.dataset.again;
    card.querySelectorAll("[data-lightbox-open]").forEach(function (opener) {
      opener.dataset.lightboxOpen = pick.dataset.showResult;
    });
    card.querySelectorAll("[data-show-result]").forEach(function (other) {
      other.setAttribute("aria-pressed", other === pick ? "true" : "false");
    });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-toggle-view]");
    if (toggle) {
      var pair = toggle.closest(".edit-card").querySelector(".pair[data-compare]");
      var side = pair.dataset.view === "compare";
      pair.dataset.view = side ? "side" : "compare";
      toggle.setAttribute("aria-pressed", side ? "true" : "false");
      return;
    }
    var pick = event.target.closest("[data-show-result]");
    if (pick) showResult(pick);
  });

  document.addEventListener("htmx:load", function (event) { setUpCompare(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { setUpCompare(document); });
})();
