// The scanner page: a handheld scanner types the code and Enter into the always-focused input;
// the camera and the name search feed the same path. Every scan goes to the JSON API with its
// own scan_id, so a resend never counts twice. Nothing here blocks the next scan.
(function () {
  "use strict";
  var page = document.getElementById("scanner");
  var messages = JSON.parse(document.getElementById("messages").textContent);
  var input = document.getElementById("code");
  var form = document.getElementById("scan-form");
  var result = document.getElementById("result");
  var title = document.getElementById("result-title");
  var nameLine = document.getElementById("result-name");
  var detail = document.getElementById("result-detail");
  var undoButton = document.getElementById("undo");
  var headcount = document.getElementById("headcount");
  var searchInput = document.getElementById("search");
  var searchResults = document.getElementById("search-results");
  var REPEAT_WINDOW_MS = 2000; // the same code read twice this quickly is one scan
  var UNDO_WINDOW_MS = 110000; // a little under the server's two minutes
  var lastCode = null, lastCodeAt = 0, lastOk = null, audio = null;

  // A logged-in staff browser gets its token in the page; a paired device keeps its own (pair.js).
  var token = page.dataset.token || localStorage.getItem("eventreg-token-" + page.dataset.event) || "";

  function headers() {
    return {"Authorization": "Bearer " + token, "Content-Type": "application/json",
            "Accept-Language": page.dataset.lang};
  }

  function newScanId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = kind === "green" ? 880 : kind === "amber" ? 520 : 220;
      gain.gain.value = 0.15;
      tone.connect(gain); gain.connect(audio.destination);
      tone.start(); tone.stop(audio.currentTime + (kind === "green" ? 0.12 : 0.35));
    } catch (e) { /* no sound on this device: the colour still says it */ }
    if (navigator.vibrate) { navigator.vibrate(kind === "green" ? 80 : [200, 80, 200]); }
  }

  function show(kind, heading, name, text) {
    result.className = "result result-" + kind;
    title.textContent = heading;
    nameLine.textContent = name || "";
    detail.textContent = text || "";
    beep(kind);
  }

  function describe(body) {
    var who = body.participant || {};
    var lines = [who.category, who.region, who.reference].filter(Boolean).join(" · ");
    return {name: who.name || "", text: lines};
  }

  function showAnswer(status, body) {
    var card = describe(body);
    undoButton.hidden = true;
    if (body.result === "ok") {
      var zone = body.zone || {};
      var sanitary = body.sanitary || {};
      if (sanitary.warning) {
        // Let in under "warn" mode or an organizer's override: amber, with what is wrong.
        show("amber", messages.sanitary_warning, card.name, [sanitary.text, card.text].filter(Boolean).join(" — "));
      } else {
        show("green", body.direction === "out" ? messages.left : messages.ok, card.name, card.text);
      }
      headcount.textContent = zone.headcount + (zone.capacity ? " / " + zone.capacity : "") + " " + messages.inside +
        (zone.near_capacity ? " · " + messages.near_capacity : "");
      headcount.className = "headcount" + (zone.near_capacity ? " warn" : "");
      lastOk = {scanId: body.scan_id, at: Date.now()};
      undoButton.hidden = false;
    } else if (body.result === "already_checked_in") {
      var first = body.first || {};
      var when = first.time ? messages.already_detail.replace("{time}", first.time)
        .replace("{place}", first.checkpoint).replace("{who}", first.by) : "";
      show("amber", messages.already_checked_in, card.name, [when, card.text].filter(Boolean).join(" — "));
    } else if (body.result === "attestation_required") {
      show("red", messages.attestation_required, card.name,
           [(body.sanitary || {}).text, card.text].filter(Boolean).join(" — "));
    } else {
      show("red", messages[body.result] || messages.error, card.name, card.text);
    }
  }

  function submitCode(code) {
    code = (code || "").trim();
    input.value = "";
    input.focus();
    if (!code) { return; }
    var now = Date.now();
    if (code === lastCode && now - lastCodeAt < REPEAT_WINDOW_MS) { return; }
    lastCode = code; lastCodeAt = now;
    var body = {code: code, checkpoint: page.dataset.checkpoint, scan_id: newScanId(),
                scanned_at: new Date().toISOString()};
    if (offline) { decideLocally(body); return; }
    // Two seconds without an answer and the door does not wait: decide here, sync later.
    Offline.fetchWithin(page.dataset.api, {method: "POST", headers: headers(), body: JSON.stringify(body)},
                        ONLINE_TIMEOUT_MS)
      .then(function (response) {
        if (response.status >= 500) { throw new Error("server " + response.status); }
        return response.json().then(function (data) { setOffline(false); showAnswer(response.status, data); });
      })
      .catch(function () { setOffline(true); decideLocally(body); });
  }

  // ---- Offline: local decisions, the queue, and syncing it back (static/js/offline.js) ----
  var Offline = window.EventregOffline;
  var ONLINE_TIMEOUT_MS = 2000;
  var offline = false;
  var banner = document.getElementById("offline-banner");
  var queueStatus = document.getElementById("queue-status");
  var syncButton = document.getElementById("sync-now");
  var door = new Offline.Door({slug: page.dataset.event, api: page.dataset.eventApi, headers: headers,
                               checkpoint: page.dataset.checkpoint});

  function setOffline(value) {
    if (offline === value) { return; }
    offline = value;
    banner.hidden = !offline;
    document.body.classList.toggle("is-offline", offline);
    if (!offline) { syncQueue(); }
  }

  function decideLocally(body) {
    if (!door.ready()) { show("red", messages.no_local_data, "", ""); return; }
    door.decide(body.code).then(function (outcome) {
      var card = describe(outcome);
      if (outcome.result === "ok") {
        door.enqueue({scan_id: body.scan_id, code: body.code, checkpoint: body.checkpoint,
                      scanned_at: body.scanned_at, direction: "in", slug: page.dataset.event})
          .then(updateQueueStatus);
        if (outcome.warning) {
          show("amber", messages.not_in_local_list, card.name, messages.offline_note);
        } else if (outcome.sanitaryWarning) {
          show("amber", messages.sanitary_warning, card.name, [card.text, messages.offline_note].join(" — "));
        } else {
          show("green", messages.ok, card.name, [card.text, messages.offline_note].filter(Boolean).join(" — "));
        }
        undoButton.hidden = true;
      } else {
        showAnswer(0, outcome);
      }
    }).catch(function () { show("red", messages.error, "", ""); });
  }

  function updateQueueStatus() {
    return door.pending().then(function (queued) {
      var synced = localStorage.getItem("eventreg-synced-" + page.dataset.event);
      var time = synced ? new Date(synced).toTimeString().slice(0, 5) : "—";
      queueStatus.textContent = messages.queue_status.replace("{count}", queued.length).replace("{time}", time);
      return door.conflicts();
    }).then(function (conflicts) {
      var list = document.getElementById("conflicts");
      list.textContent = "";
      conflicts.slice(-5).forEach(function (conflict) {
        var item = document.createElement("li");
        var who = (conflict.participant || {}).name || "";
        item.textContent = messages.conflict + ": " + who + " — " + (messages[conflict.reason] || conflict.reason);
        list.appendChild(item);
      });
    });
  }

  var syncing = false;
  function syncQueue() {
    if (syncing || !door.db) { return Promise.resolve(); }
    syncing = true;
    return door.sync().then(function (done) {
      setOffline(false);
      syncing = false;
      updateQueueStatus();
      if (done.more) { return syncQueue(); }
    }).catch(function () { syncing = false; });
  }

  function refreshLocalData() {
    if (offline) { return; }
    door.refresh().then(function () {
      page.dataset.localCopy = door.meta.downloaded_at;  // for people (and tests) to see how fresh it is
      return updateQueueStatus();
    }).catch(function () { /* keep the copy we have */ });
  }

  syncButton.addEventListener("click", function () { syncQueue(); input.focus(); });
  window.addEventListener("online", function () { setOffline(false); });
  window.addEventListener("offline", function () { setOffline(true); });
  // Back online by itself: try the queue every few seconds while it is not empty.
  setInterval(function () {
    door.pending().then(function (queued) { if (queued.length) { syncQueue(); } }).catch(function () {});
  }, 5000);
  setInterval(refreshLocalData, 60000);
  door.load().then(function () { updateQueueStatus(); refreshLocalData(); syncQueue(); })
    .catch(function () { show("red", messages.no_local_data, "", ""); });

  // Open and working with no network at all once opened here: a service worker keeps the page's
  // files, and the page itself is kept in the same cache.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(page.dataset.worker, {scope: page.dataset.workerScope})
      .then(function () { return caches.open("eventreg-pages-v1"); })
      .then(function (cache) { return cache.add(location.href); })
      .catch(function () { /* no offline page on this browser: scanning online still works */ });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitCode(input.value);
  });

  // Keep the input ready for the handheld scanner, except while staff type a name search.
  document.addEventListener("click", function (event) {
    if (event.target !== searchInput && !searchResults.contains(event.target)) { input.focus(); }
  });
  window.addEventListener("focus", function () { input.focus(); });

  undoButton.addEventListener("click", function () {
    if (!lastOk || Date.now() - lastOk.at > UNDO_WINDOW_MS) { undoButton.hidden = true; return; }
    fetch(page.dataset.undo.replace("SCAN_ID", encodeURIComponent(lastOk.scanId)),
          {method: "POST", headers: headers()})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        show(data.result === "undone" ? "amber" : "red", messages[data.result] || messages.error, "", "");
        undoButton.hidden = true;
        lastOk = null;
      })
      .catch(function () { show("red", messages.error, "", ""); });
    input.focus();
  });

  var searchTimer = null;
  searchInput.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 250);
  });
  document.getElementById("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    runSearch();
  });

  function runSearch() {
    var query = searchInput.value.trim();
    searchResults.textContent = "";
    if (query.length < 2) { return; }
    fetch(page.dataset.search + "?q=" + encodeURIComponent(query), {headers: headers()})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var people = data.results || [];
        if (!people.length) {
          var empty = document.createElement("li");
          empty.textContent = messages.no_results;
          searchResults.appendChild(empty);
        }
        people.forEach(function (person) {
          var item = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          button.className = "button person";
          button.textContent = person.name + " · " + [person.category, person.region, person.reference].join(" · ");
          button.addEventListener("click", function () {
            searchResults.textContent = "";
            searchInput.value = "";
            submitCode(person.reference);
          });
          item.appendChild(button);
          searchResults.appendChild(item);
        });
      })
      .catch(function () { show("red", messages.error, "", ""); });
  }

  // Camera: the browser's own BarcodeDetector where it exists, else the vendored qr-scanner
  // (served from /static, never a CDN: the venue may be offline).
  var cameraButton = document.getElementById("camera");
  var video = document.getElementById("video");
  var cameraScanner = null;
  cameraButton.addEventListener("click", function () {
    if (cameraScanner) { cameraScanner.stop(); cameraScanner = null; video.hidden = true; input.focus(); return; }
    loadQrScanner().then(function (QrScanner) {
      video.hidden = false;
      cameraScanner = new QrScanner(video, function (scanned) { submitCode(scanned.data || scanned); },
                                    {returnDetailedScanResult: true, maxScansPerSecond: 10});
      return cameraScanner.start();
    }).catch(function () {
      video.hidden = true;
      cameraScanner = null;
      show("red", messages.camera_unavailable, "", "");
    });
  });

  function loadQrScanner() {
    if (window.QrScanner) { return Promise.resolve(window.QrScanner); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = page.dataset.vendor;
      script.onload = function () { resolve(window.QrScanner); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  input.focus();
})();
