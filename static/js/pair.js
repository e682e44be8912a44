// Pairing: the organizer's QR opens /checkin/<slug>/pair#<token>. The token moves from the URL
// fragment (never sent to a server, never in logs) into this browser's storage, and the page
// lists the checkpoints the token may scan at.
(function () {
  "use strict";
  var root = document.getElementById("pair");
  var messages = JSON.parse(document.getElementById("pair-messages").textContent);
  var status = document.getElementById("pair-status");
  var list = document.getElementById("pair-zones");
  var key = "eventreg-token-" + root.dataset.slug;
  if (location.hash.length > 1) {
    localStorage.setItem(key, decodeURIComponent(location.hash.slice(1)));
    history.replaceState(null, "", location.pathname);
  }
  var token = localStorage.getItem(key);
  if (!token) { status.textContent = messages.unpaired; return; }
  fetch(root.dataset.checkpoints, {headers: {"Authorization": "Bearer " + token}})
    .then(function (response) {
      if (response.status === 401) { localStorage.removeItem(key); throw new Error("unpaired"); }
      return response.json();
    })
    .then(function (data) {
      data.checkpoints.forEach(function (zone) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.className = "button";
        link.href = root.dataset.scanner.replace("CODE", encodeURIComponent(zone.code));
        link.textContent = zone.name;
        item.appendChild(link);
        list.appendChild(item);
      });
    })
    .catch(function (error) { status.textContent = error.message === "unpaired" ? messages.unpaired : messages.error; });
})();
