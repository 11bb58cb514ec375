// Small comforts on top of htmx, on every page: the language menu, Copy buttons, questions
// before revoking, the account menu, elapsed time and live updates of running edits. Every
// page works without the scripts; upload.js and compare.js add the studio's form and the
// before/after slider.
// No inline handlers and no eval: the Content Security Policy allows neither.
(function () {
  "use strict";

  // ---- Language menu: apply the choice at once. ----
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  // ---- Copy buttons (share links, a new API token): copy, and say so on the button. The
  // button names what to copy: a field (its value) or any element (its text). ----
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var text = "value" in field ? field.value : field.textContent.trim();
    if ("select" in field) field.select();
    var done = function () {
      var label = button.textContent;
      button.textContent = "✓";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else if ("select" in field && document.execCommand("copy")) {
      done();
    }
  });

  // ---- Forms that undo something for good ask first (data-confirm holds the question).
  // Without scripts they are sent at once. ----
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // ---- The account menu (a <details>): closed by a click outside it, or by Esc. ----
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
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

})();
