// Before/after: a slider over the two pictures, side by side on request; the result picker.
(function () {
  "use strict";

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

  document.addEventListener("htmx:load", function (event) { setUpCompare(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { setUpCompare(document); });
})();
