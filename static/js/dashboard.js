// Organizer dashboard: refresh the figures and charts every 10 seconds without reloading the page.
// The first figures come in <script type="application/json" id="dashboard-data">; later ones from
// its data-url. No libraries: the bar charts are plain SVG, drawn like templates/organizer/_charts.html.
(function () {
  "use strict";
  var REFRESH_MS = 10000;
  var SVG = "http://www.w3.org/2000/svg";
  var source = document.getElementById("dashboard-data");
  if (!source) { return; }
  var url = source.getAttribute("data-url");

  function lookup(figures, path) {
    return path.split(".").reduce(function (value, key) {
      return value === undefined || value === null ? undefined : value[key];
    }, figures);
  }

  function svg(name, attributes) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    return element;
  }

  function drawBars(container, series) {
    var values = series.values || [];
    var labels = series.labels || [];
    var old = container.querySelector("svg.chart");
    var top = Math.max.apply(null, values.concat([1]));
    var width = Math.max(values.length * 12, 120);
    var chart = svg("svg", {"class": "chart", viewBox: "0 0 " + width + " 110", preserveAspectRatio: "none",
                            role: "img", "aria-label": old ? old.getAttribute("aria-label") : ""});
    values.forEach(function (value, index) {
      var height = Math.round(value / top * 1000) / 10;
      var bar = svg("rect", {x: index * 12 + 1, y: 100 - height, width: 10, height: height});
      var title = svg("title", {});
      title.textContent = labels[index] + ": " + value;
      bar.appendChild(title);
      chart.appendChild(bar);
    });
    chart.appendChild(svg("line", {x1: 0, y1: 100.5, x2: width, y2: 100.5}));
    if (old) {
      old.replaceWith(chart);
    }
    var axis = container.querySelector(".chart-axis");
    if (axis) {
      axis.children[0].textContent = values.length ? labels[0] : "";
      axis.children[1].textContent = values.length ? labels[labels.length - 1] : "";
    }
    var empty = container.querySelector(".chart-empty");
    if (empty) { empty.hidden = values.length > 0; }
  }

  function show(figures) {
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      var value = lookup(figures, element.getAttribute("data-figure"));
      if (value !== undefined && value !== null) { element.textContent = value; }
    });
    document.querySelectorAll("[data-chart]").forEach(function (container) {
      var series = figures[container.getAttribute("data-chart")];
      if (series) { drawBars(container, series); }
    });
  }

  function refresh() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (figures) { if (figures) { show(figures); } })
      .catch(function () { /* offline for a moment: the next round tries again */ })
      .then(function () { window.setTimeout(refresh, REFRESH_MS); });
  }

  window.setTimeout(refresh, REFRESH_MS);
}());
