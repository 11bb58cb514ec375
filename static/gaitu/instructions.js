// The instruction picker (instructions/templates/instructions/picker.html): drawn again after
// an edit was sent, so the instruction just used is among the recent ones; and after a
// "forget", the focus goes to a chip nearby rather than to the top of the page.
// No inline handlers and no eval: the Content Security Policy allows neither.
(function () {
  "use strict";

  function picker() {
    return document.querySelector("[data-instruction-picker]");
  }

  // The forget button pressed, and its place among them, to focus the chip now there.
  var forgetting = null;
  var forgottenAt = -1;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var button = event.detail.elt;
    if (!button.matches || !button.matches("[data-instruction-picker] [data-forget]")) return;
    var all = Array.prototype.slice.call(picker().querySelectorAll("[data-forget]"));
    forgetting = button;
    forgottenAt = all.indexOf(button);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var sent = event.detail.requestConfig && event.detail.requestConfig.elt;
    var fromUploadForm = sent && sent.matches && sent.matches("form[data-reset-after-send]");
    var here = picker();
    if (target && target.id === "edit-list" && fromUploadForm && here && window.htmx) {
      window.htmx.trigger(here, "gaitu:redraw");  // its hx-get draws it again
      return;
    }
    // Only the forget's own answer: live updates of cards swap in between.
    if (!forgetting || sent !== forgetting || !here) return;
    forgetting = null;
    var active = document.activeElement;
    if (active && active !== document.body && here.contains(active)) return;
    var own = here.querySelectorAll("[data-saved-instruction] [data-preset]");
    var next = own[Math.min(forgottenAt, own.length - 1)] || here.querySelector("[data-preset], a");
    if (next) next.focus();
  });
})();
