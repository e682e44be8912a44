// The scanner page's service worker (scope /checkin/): the page and everything it loads stay
// available with no network at all once the page has been opened on this device. API calls are
// never cached: the page decides offline itself (offline.js) when they fail.
var STATIC_CACHE = "eventreg-static-v1";
var PAGE_CACHE = "eventreg-pages-v1";
var STATIC_FILES = [
  "/static/css/app.css", "/static/css/scanner.css", "/static/js/scanner.js", "/static/js/offline.js",
  "/static/js/pair.js", "/static/favicon.svg",
  "/static/vendor/qr-scanner/qr-scanner.umd.min.js", "/static/vendor/qr-scanner/qr-scanner-worker.min.js"
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) { return cache.addAll(STATIC_FILES); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) {
    return;
  }
  if (request.mode === "navigate") {
    // The network first (fresh token and checkpoint), the kept copy when there is none.
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(PAGE_CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request, {ignoreSearch: true});
    }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    // Files change only with a new version of the app: the kept copy first, then refresh it.
    event.respondWith(caches.match(request, {ignoreSearch: true}).then(function (cached) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok) {
          var copy = response.clone();
          caches.open(STATIC_CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      });
      return cached || fresh;
    }));
  }
});
