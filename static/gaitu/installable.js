// The installable app: registers the service worker (served from the root, see its script tag
// in installable_head.html), which keeps the app shell and takes pictures shared to Gaitu.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !("serviceWorker" in navigator)) return;
  var url = script.dataset.serviceWorker;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(url, { scope: "/" }).catch(function (error) {
      // The pages work without it; only the offline page and the share target wait for it.
      console.warn("Gaitu: the service worker was not registered:", error);
    });
  });
})();
