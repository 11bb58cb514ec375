// Pictures shared to Gaitu from another app: the service worker kept them in IndexedDB and
// opened the studio with ?shared=1. Here they go to the upload form (upload.js listens for
// "gaitu:add-files"), and the inbox is emptied. On another page (the login page, on the way
// to the studio) they stay where they are.
(function () {
  "use strict";
  var MARKER = "shared";
  var INBOX_DB = "gaitu-share-inbox";  // the same database and store as the service worker's
  var INBOX_STORE = "files";

  function takeFromInbox(done) {
    var opening = indexedDB.open(INBOX_DB, 1);
    opening.addEventListener("upgradeneeded", function () {
      opening.result.createObjectStore(INBOX_STORE, { autoIncrement: true });
    });
    opening.addEventListener("success", function () {
      var db = opening.result;
      var transaction = db.transaction(INBOX_STORE, "readwrite");
      var store = transaction.objectStore(INBOX_STORE);
      var kept = [];
      store.getAll().addEventListener("success", function (event) {
        kept = event.target.result;
        store.clear();  // in the same transaction: taken once, and only if taken
      });
      transaction.addEventListener("complete", function () {
        db.close();
        done(kept.map(function (item) {
          return new File([item.blob], item.name, { type: item.type });
        }));
      });
    });
  }

  function forgetMarker() {
    var url = new URL(window.location.href);
    url.searchParams.delete(MARKER);
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }

  function take() {
    if (!new URLSearchParams(window.location.search).has(MARKER)) return;
    if (!document.querySelector("#upload-form input[type=file]") || !window.indexedDB) return;
    takeFromInbox(function (files) {
      forgetMarker();
      if (!files.length) return;
      document.dispatchEvent(new CustomEvent("gaitu:add-files", { detail: { files: files } }));
    });
  }

  // After the deferred scripts (upload.js among them) have run.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", take);
  else take();
})();
