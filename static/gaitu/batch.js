// A batch's card (studio) and its page: refreshed as a whole while any of its edits waits or
// runs. The server says when one of those edits changes (the same event stream gaitu.js opens
// for edit cards, live/views.py); the batch then asks for itself, and unchanged it costs a 304.
// Without the stream each live batch asks twice a second until the stream is back.
// Loaded by a batch's page, and wherever base.html loads it: it runs once per page.
(function () {
  "use strict";
  if (window.gaituBatches) return;
  window.gaituBatches = true;

  var stream = null;
  var streamFor = "";

  function liveBatches() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-batch][data-batch-live]"));
  }

  function runningIds(batch) {
    return (batch.dataset.running || "").split(",").filter(Boolean);
  }

  function askForNews(batch) {
    htmx.trigger(batch, "gaitu:changed");
  }

  function follow() {
    var batches = liveBatches();
    var ids = [].concat.apply([], batches.map(runningIds)).sort().join(",");
    if (stream && ids === streamFor) return;
    if (stream) stream.close();
    stream = null;
    streamFor = ids;
    var url = document.body.dataset.liveUrl;
    if (!ids || !url || !window.EventSource) return;
    stream = new EventSource(url + "?ids=" + ids);
    // Whatever changed before the stream was open is asked for once.
    stream.addEventListener("open", function () { liveBatches().forEach(askForNews); });
    stream.addEventListener("edit", function (event) {
      liveBatches().forEach(function (batch) {
        if (runningIds(batch).indexOf(event.data) >= 0) askForNews(batch);
      });
    });
    stream.addEventListener("done", function () {
      stream.close();
      stream = null;
    });
  }

  setInterval(function () {
    if (stream && stream.readyState === EventSource.OPEN) return;
    liveBatches().forEach(askForNews);
  }, 500);
  document.addEventListener("htmx:load", follow);
  document.addEventListener("DOMContentLoaded", follow);

  // An edit's own Retry and Cancel answer with the edit's card, which a batch does not show:
  // nothing is swapped (hx-swap="none"), and the batch asks for itself once they are done.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest ? event.target.closest("[data-batch-refresh]") : null;
    var batch = form ? form.closest("[data-batch]") : null;
    if (batch) askForNews(batch);
  });
})();
