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
      show("green", body.direction === "out" ? messages.left : messages.ok, card.name, card.text);
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
    fetch(page.dataset.api, {method: "POST", headers: headers(), body: JSON.stringify(body)})
      .then(function (response) {
        return response.json().then(function (data) { showAnswer(response.status, data); });
      })
      .catch(function () { show("red", messages.error, "", ""); });
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
