{% autoescape off %}// Gaitu's service worker (rendered by studio/views/installable.py, served as /sw.js).
//
// It keeps the app shell only: the style sheets, scripts and icons under their hashed names,
// and the offline page. Nothing else is ever stored: not a picture (/media/, /s/), not an API
// answer (/api/), not a page (a page holds a person's edits). Those always go to the network.
//
// It is also the Web Share Target: a picture shared from the phone's gallery app is posted to
// the share target; the worker keeps it in IndexedDB and opens the studio, whose
// share-target.js hands it to the upload form and empties the inbox.
"use strict";

const SHELL_CACHE = "gaitu-shell-{{ version }}";
const SHELL = {{ shell_json }};
const SHELL_PATHS = new Set(SHELL);
const OFFLINE_URL = {{ offline_url }};
const SHARE_TARGET_URL = {{ share_target_url }};
const STUDIO_WITH_SHARED = {{ studio_url }};
const FILES_FIELD = {{ files_field }};
// The same database and store as share-target.js.
const INBOX_DB = "gaitu-share-inbox";
const INBOX_STORE = "files";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting())
  );
});

// A new release has new hashed names, so a new cache: the old ones go.
self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("gaitu-") && name !== SHELL_CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === SHARE_TARGET_URL) {
    event.respondWith(receiveShare(request));
    return;
  }
  if (request.method !== "GET") return;
  if (SHELL_PATHS.has(url.pathname) && !url.search) {
    event.respondWith(fromShell(request));
    return;
  }
  if (request.mode === "navigate") {
    // Pages are never kept; without a network the offline page stands in for them.
    event.respondWith(fetch(request).catch(() => matchShell(OFFLINE_URL)));
  }
  // Anything else (pictures, the API, live updates) is left to the network, untouched.
});

function matchShell(url) {
  return caches.open(SHELL_CACHE).then((cache) => cache.match(url, { ignoreVary: true }));
}

function fromShell(request) {
  return matchShell(request.url).then((kept) => kept || fetch(request));
}

async function receiveShare(request) {
  const untouched = request.clone();
  let files;
  try {
    const form = await request.formData();
    files = form.getAll(FILES_FIELD).filter((file) => file instanceof File && file.size > 0);
    await keepInInbox(files);
  } catch (error) {
    // Not read or not kept: the server's share target answers instead (it asks to share again).
    return fetch(untouched);
  }
  return Response.redirect(STUDIO_WITH_SHARED, 303);
}

function keepInInbox(files) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(INBOX_DB, 1);
    opening.addEventListener("upgradeneeded", () => {
      opening.result.createObjectStore(INBOX_STORE, { autoIncrement: true });
    });
    opening.addEventListener("error", () => reject(opening.error));
    opening.addEventListener("success", () => {
      const db = opening.result;
      const transaction = db.transaction(INBOX_STORE, "readwrite");
      const store = transaction.objectStore(INBOX_STORE);
      store.clear();  // a share replaces one the studio never took
      files.forEach((file) => store.add({ name: file.name, type: file.type, blob: file }));
      transaction.addEventListener("complete", () => { db.close(); resolve(); });
      transaction.addEventListener("error", () => { db.close(); reject(transaction.error); });
    });
  });
}
{% endautoescape %}
