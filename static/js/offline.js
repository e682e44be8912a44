// Offline scanning for the scanner page (issue 7). The page keeps a local copy of the door's data
// in IndexedDB, refreshed in the background; when the server does not answer within two seconds
// it decides here with the same rules as the server, queues the scan, and syncs it later.
// A badge code is verified with the event's Ed25519 public key, so the device holds no valid code.
(function () {
  "use strict";
  var DB_NAME = "eventreg-offline", DB_VERSION = 1;
  var BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("meta");
        db.createObjectStore("badges", {keyPath: "key"});
        db.createObjectStore("queue", {keyPath: "scan_id"});
        db.createObjectStore("conflicts", {keyPath: "scan_id"});
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function tx(db, stores, mode, work) {
    return new Promise(function (resolve, reject) {
      var transaction = db.transaction(stores, mode);
      var result = work(transaction);
      transaction.oncomplete = function () { resolve(result); };
      transaction.onerror = function () { reject(transaction.error); };
      transaction.onabort = function () { reject(transaction.error); };
    });
  }

  function getAll(db, store) {
    return new Promise(function (resolve, reject) {
      var request = db.transaction(store).objectStore(store).getAll();
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function getMeta(db, key) {
    return new Promise(function (resolve, reject) {
      var request = db.transaction("meta").objectStore("meta").get(key);
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function base32Decode(text) {
    var bits = 0, value = 0, out = [];
    for (var i = 0; i < text.length; i++) {
      var index = BASE32.indexOf(text.charAt(i));
      if (index < 0) { return null; }
      value = (value << 5) | index;
      bits += 5;
      if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
    }
    return new Uint8Array(out);
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function Door(options) {
    this.slug = options.slug;
    this.api = options.api;          // base of /api/v1/events/<slug>
    this.headers = options.headers;  // function giving the Authorization headers
    this.checkpoint = options.checkpoint;
    this.badges = new Map();         // registration id -> badge
    this.byReference = new Map();    // reference hash -> registration id
    this.meta = null;
    this.key = null;
  }

  Door.prototype.key_ = function (id) { return this.slug + ":" + id; };

  Door.prototype.load = function () {
    var door = this;
    return openDb().then(function (db) {
      door.db = db;
      return Promise.all([getMeta(db, door.slug), getAll(db, "badges")]);
    }).then(function (found) {
      door.meta = found[0] || null;
      found[1].forEach(function (badge) { if (badge.slug === door.slug) { door.remember(badge); } });
      return door.importKey();
    });
  };

  Door.prototype.remember = function (badge) {
    this.badges.set(badge.i, badge);
    this.byReference.set(badge.r, badge.i);
  };

  Door.prototype.importKey = function () {
    var door = this;
    if (!door.meta || !window.crypto || !crypto.subtle) { return Promise.resolve(); }
    var raw = Uint8Array.from(atob(door.meta.event.public_key), function (c) { return c.charCodeAt(0); });
    return crypto.subtle.importKey("raw", raw, {name: "Ed25519"}, false, ["verify"])
      .then(function (key) { door.key = key; })
      .catch(function () { door.key = null; });
  };

  // Download what changed since the last time (everything the first time) and store it.
  Door.prototype.refresh = function (timeoutMs) {
    var door = this;
    var url = door.api + "/offline-data" + (door.meta ? "?since=" + encodeURIComponent(door.meta.cursor) : "");
    return fetchWithin(url, {headers: door.headers()}, timeoutMs || 15000)
      .then(function (response) {
        if (!response.ok) { throw new Error("download " + response.status); }
        return response.json();
      })
      .then(function (data) {
        var badges = data.badges.map(function (b) { b.key = door.key_(b.i); b.slug = door.slug; return b; });
        var meta = {cursor: data.cursor, event: data.event, checkpoints: data.checkpoints, sanitary: data.sanitary,
                    categories: data.categories, regions: data.regions, downloaded_at: new Date().toISOString()};
        return tx(door.db, ["meta", "badges"], "readwrite", function (t) {
          var store = t.objectStore("badges");
          if (data.full) { door.badges.clear(); door.byReference.clear(); }
          badges.forEach(function (b) { store.put(b); });
          t.objectStore("meta").put(meta, door.slug);
        }).then(function () {
          badges.forEach(function (b) { door.remember(b); });
          door.meta = meta;
          return door.importKey();
        });
      });
  };

  Door.prototype.ready = function () { return Boolean(this.meta); };

  // The same rules as eventreg/checkin/service.py, with the data the device has.
  Door.prototype.decide = function (code) {
    var door = this;
    var checkpoint = (door.meta.checkpoints || []).filter(function (c) { return c.code === door.checkpoint; })[0];
    return door.identify(code).then(function (found) {
      if (found.rejected) { return {result: "unknown_code", reason: found.rejected}; }
      var badge = door.badges.get(found.id);
      if (!badge) {
        // Signed by the server, issued after the last download: let in, with a warning.
        return {result: "ok", local: true, warning: "not_in_local_list", participant: {name: ""}};
      }
      var card = door.card(badge);
      if (found.generation && found.generation < badge.g) { return {result: "unknown_code", reason: "reissued"}; }
      if (badge.s === "cancelled") { return {result: "cancelled", participant: card}; }
      if (badge.s === "waitlisted") { return {result: "not_confirmed", participant: card}; }
      if (checkpoint && checkpoint.categories.length && checkpoint.categories.indexOf(badge.c) < 0) {
        return {result: "not_allowed_here", participant: card};
      }
      if (checkpoint && (badge.z === checkpoint.id || (!checkpoint.reentry && badge.e.indexOf(checkpoint.id) >= 0))) {
        return {result: "already_checked_in", participant: card, first: badge.local_first || null};
      }
      var sanitary = door.sanitary(badge);
      if (sanitary === "block") { return {result: "attestation_required", participant: card}; }
      if (checkpoint) {
        badge.z = checkpoint.id;
        if (!checkpoint.reentry) { badge.e = badge.e.concat([checkpoint.id]); }
        badge.local_first = {time: new Date().toTimeString().slice(0, 5), checkpoint: checkpoint.name, by: ""};
        tx(door.db, ["badges"], "readwrite", function (t) { t.objectStore("badges").put(badge); });
      }
      return {result: "ok", local: true, participant: card, sanitaryWarning: sanitary === "warn"};
    });
  };

  // The sanitary rule at the moment of the scan, from the state and end of validity downloaded:
  // "allow", "warn" or "block" as the event's policy says (eventreg/attestations/status.py).
  Door.prototype.sanitary = function (badge) {
    var policy = this.meta.sanitary || {mode: "off"};
    if (policy.mode === "off") { return "allow"; }
    var valid = (badge.ss === "valid" || badge.ss === "expiring_soon") && (!badge.sv || new Date() < new Date(badge.sv));
    if (valid && policy.declaration_required) {
      var today = new Intl.DateTimeFormat("en-CA", {timeZone: this.meta.event.timezone}).format(new Date());
      valid = today === policy.computed_on;  // the declaration downloaded was for that day
    }
    return valid ? "allow" : policy.mode;
  };

  Door.prototype.card = function (badge) {
    var category = (this.meta.categories || {})[badge.c] || {};
    return {name: badge.n, category: category.name || "", category_color: category.color || "",
            region: (this.meta.regions || {})[badge.rg] || "", reference: ""};
  };

  // Which registration a code names: a signed badge code checked with the public key, or a typed reference.
  Door.prototype.identify = function (code) {
    var door = this;
    var text = code.trim().toUpperCase();
    if (text.indexOf("ER1:") !== 0) {
      var reference = text.replace(/[^0-9A-Z]/g, "");
      if (reference.length !== 8) { return Promise.resolve({rejected: "malformed"}); }
      var salted = new TextEncoder().encode("eventreg-ref:" + door.meta.event.id + ":" + reference);
      return crypto.subtle.digest("SHA-256", salted).then(function (digest) {
        var id = door.byReference.get(hex(digest).slice(0, 16));
        return id ? {id: id} : {rejected: "unknown"};
      });
    }
    var raw = base32Decode(text.slice(4));
    if (!raw || raw.length !== 75 || raw[0] !== 1) { return Promise.resolve({rejected: "malformed"}); }
    var view = new DataView(raw.buffer);
    var eventId = view.getUint32(1), id = view.getUint32(5), generation = view.getUint16(9);
    if (eventId !== door.meta.event.id) { return Promise.resolve({rejected: "other_event"}); }
    if (!door.key) { return Promise.resolve({id: id, generation: generation}); }
    return crypto.subtle.verify({name: "Ed25519"}, door.key, raw.slice(11), raw.slice(0, 11))
      .then(function (valid) { return valid ? {id: id, generation: generation} : {rejected: "bad_signature"}; });
  };

  Door.prototype.enqueue = function (scan) {
    return tx(this.db, ["queue"], "readwrite", function (t) { t.objectStore("queue").put(scan); });
  };

  Door.prototype.pending = function () {
    var slug = this.slug;
    return getAll(this.db, "queue").then(function (all) {
      return all.filter(function (s) { return s.slug === slug; });
    });
  };

  Door.prototype.conflicts = function () {
    var slug = this.slug;
    return getAll(this.db, "conflicts").then(function (all) {
      return all.filter(function (s) { return s.slug === slug; });
    });
  };

  // Send the queued scans; the server applies each once (by scan_id), so a lost answer is harmless.
  Door.prototype.sync = function () {
    var door = this;
    return door.pending().then(function (queued) {
      if (!queued.length) { return {synced: 0, conflicts: 0}; }
      var batch = queued.slice(0, 500).map(function (s) {
        return {scan_id: s.scan_id, code: s.code, checkpoint: s.checkpoint, scanned_at: s.scanned_at,
                direction: s.direction};
      });
      return fetchWithin(door.api + "/sync", {method: "POST", headers: door.headers(),
                                              body: JSON.stringify({scans: batch})}, 30000)
        .then(function (response) {
          if (!response.ok) { throw new Error("sync " + response.status); }
          return response.json();
        })
        .then(function (data) {
          var conflicts = data.results.filter(function (r) { return r.result === "conflict"; });
          return tx(door.db, ["queue", "conflicts", "meta"], "readwrite", function (t) {
            data.results.forEach(function (r) { t.objectStore("queue").delete(r.scan_id); });
            conflicts.forEach(function (r) { r.slug = door.slug; t.objectStore("conflicts").put(r); });
          }).then(function () {
            localStorage.setItem("eventreg-synced-" + door.slug, data.synced_at);
            return {synced: data.results.length, conflicts: conflicts.length, more: queued.length > batch.length};
          });
        });
    });
  };

  function fetchWithin(url, options, timeoutMs) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, timeoutMs);
    options.signal = controller.signal;
    return fetch(url, options).finally(function () { clearTimeout(timer); });
  }

  window.EventregOffline = {Door: Door, fetchWithin: fetchWithin};
})();
