// The /reports charts: each card's <canvas data-chart-url> is drawn with Chart.js from its
// chart's JSON (tickets/reports/charts.py, Chart.as_json), and each "Table" toggle loads the chart's
// server-rendered table the first time it is opened. No inline script or style (the CSP
// forbids them): URLs come from data- attributes, colours are set through the CSSOM.
//
// Colours come from one palette, the --dd-* custom properties of static/css/app.css (which the
// state badges use too): a state looks the same in a chart as on its badge, and every legend,
// Chart.js's or ours, shows a series in the colours its dataset is drawn with.
//
// Readable at any size (50 teams, 5 years):
// - more than MAX_LEGEND series: Chart.js's legend gives way to a scrolling HTML legend whose
//   entries show and hide their series, and tooltips show the nearest series, not all of them;
// - x-axis ticks skip automatically and never rotate;
// - more than MAX_BARS x values: bars become lines (stacked bars, stacked areas), points are
//   not drawn;
// - scatter charts (ageing work in progress) colour points by SLA status and draw the notes'
//   percentiles (p50, p85, ...) as dashed horizontal lines.
(function () {
  "use strict";

  var MAX_LEGEND = 12;
  var MAX_BARS = 60;
  var styles = window.getComputedStyle(document.documentElement);

  // The palette's colour ``name`` (app.css's --dd-<name>), as "#rrggbb"; "" when it has none.
  function paletteColour(name) {
    return styles.getPropertyValue("--dd-" + name).trim();
  }

  // The series colours, in order (--dd-series-1, -2, ...); beyond them hues by golden angle.
  var SERIES_COLOURS = [];
  while (paletteColour("series-" + (SERIES_COLOURS.length + 1))) {
    SERIES_COLOURS.push(paletteColour("series-" + (SERIES_COLOURS.length + 1)));
  }

  if (typeof window.Chart === "undefined") {
    document.querySelectorAll("[data-chart-status]").forEach(function (status) {
      status.textContent = "The charts could not load (Chart.js is missing: run `python3 app.py` " +
        "once to fetch it). The figures are under “Table”.";
    });
    setUpTables();
    return;
  }
  var Chart = window.Chart;
  Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = paletteColour("chart-text");

  function rgba(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + ", " + ((n >> 8) & 255) + ", " + (n & 255) + ", " + alpha + ")";
  }

  // A colour for series ``index`` (its SLA status, state or outcome when it has one), at
  // ``alpha``; a series drawn as a line over bars (``line``) is the used share's colour.
  function colour(series, index, alpha) {
    var fixed = (series.status && paletteColour("sla-" + series.status)) ||
      (series.state && paletteColour("state-" + series.state)) ||
      (series.outcome && paletteColour("outcome-" + series.outcome)) ||
      (series.line && paletteColour("outcome-used"));
    if (fixed) { return rgba(fixed, alpha); }
    if (index < SERIES_COLOURS.length) { return rgba(SERIES_COLOURS[index], alpha); }
    var hue = Math.round((index * 137.508) % 360);
    return "hsla(" + hue + ", 55%, " + (index % 2 ? 42 : 58) + "%, " + alpha + ")";
  }

  // Percentile notes ({"p50": 3.5, "p85": 9}) as lines to draw.
  function percentiles(notes) {
    return Object.keys(notes || {}).filter(function (key) {
      return /^p\d+$/.test(key) && typeof notes[key] === "number";
    }).map(function (key) {
      return { value: notes[key], label: ordinal(parseInt(key.slice(1), 10)) + " percentile: " +
        round(notes[key]) };
    });
  }

  function ordinal(n) {
    var suffix = (n % 100 >= 11 && n % 100 <= 13) ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
    return n + suffix;
  }

  function round(value) {
    return Math.round(value * 10) / 10;
  }

  // Draws options.lines ([{value, label}]) across the chart at their y values.
  var percentileLines = {
    id: "percentileLines",
    afterDatasetsDraw: function (chart, args, options) {
      var lines = (options && options.lines) || [];
      var area = chart.chartArea;
      var ctx = chart.ctx;
      if (!lines.length || !chart.scales.y) { return; }
      ctx.save();
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 1;
      ctx.strokeStyle = paletteColour("chart-rule");
      ctx.fillStyle = paletteColour("chart-rule");
      ctx.font = "11px " + Chart.defaults.font.family;
      ctx.textAlign = "right";
      var lastY = null;
      var onLeft = false;
      lines.forEach(function (line) {
        var y = chart.scales.y.getPixelForValue(line.value);
        if (y < area.top || y > area.bottom) { return; }
        ctx.beginPath();
        ctx.moveTo(area.left, y);
        ctx.lineTo(area.right, y);
        ctx.stroke();
        // A label too close to the previous one goes to the other end of its line.
        onLeft = lastY !== null && Math.abs(lastY - y) < 14 ? !onLeft : false;
        ctx.textAlign = onLeft ? "left" : "right";
        ctx.fillText(line.label, onLeft ? area.left + 4 : area.right - 4, y - 4);
        lastY = y;
      });
      ctx.restore();
    }
  };

  function axis(title, extra) {
    var scale = { title: { display: !!title, text: title || "" } };
    Object.keys(extra || {}).forEach(function (key) { scale[key] = extra[key]; });
    return scale;
  }

  var ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // Short tick labels for ISO dates: "7 Sep" within a year, "Sep 2026" across years (tooltips
  // keep the full date).
  function dateTick(labels) {
    var acrossYears = labels.length > 0 && labels[0].slice(0, 4) !== labels[labels.length - 1].slice(0, 4);
    return function (value) {
      var label = this.getLabelForValue(value);
      if (!ISO_DATE.test(label)) { return label; }
      var month = MONTHS[parseInt(label.slice(5, 7), 10) - 1];
      return acrossYears ? month + " " + label.slice(0, 4) : parseInt(label.slice(8, 10), 10) + " " + month;
    };
  }

  function allWhole(series) {
    return series.every(function (one) {
      return one.data.every(function (value) { return value === null || Number.isInteger(value); });
    });
  }

  function seriesConfig(data, box) {
    var count = data.labels.length;
    var bars = data.type === "bar" || data.type === "stacked_bar";
    var asLines = bars && count > MAX_BARS;
    var stacked = data.type === "stacked_area" || data.type === "stacked_bar";
    var area = data.type === "stacked_area" || (asLines && stacked);
    var drawBars = bars && !asLines;
    var many = data.series.length > MAX_LEGEND;
    var dates = count > 0 && data.labels.every(function (label) { return ISO_DATE.test(label); });
    var longest = data.labels.reduce(function (top, label) { return Math.max(top, String(label).length); }, 0);
    // Categories (teams, how requests closed) are never skipped: many or long ones lie along a taller
    // chart as horizontal bars, one readable line each.
    var horizontal = drawBars && !dates && (count > 12 || longest > 14);
    if (horizontal) { box.style.height = Math.max(288, count * 22 + 90) + "px"; }
    // A series marked ``line`` (a share in %, e.g. the used share of the impact ledger) is
    // drawn as a line over the bars, on its own axis at the right, 0 to 100.
    var shares = data.series.filter(function (series) { return series.line; });
    var stackedSeries = data.series.filter(function (series) { return !series.line; });
    var datasets = data.series.map(function (series, index) {
      if (series.line) {
        return {
          type: "line", label: series.name, data: series.data, yAxisID: "share", order: 0,
          borderColor: colour(series, index, 1), backgroundColor: colour(series, index, 1),
          borderWidth: 2, fill: false, spanGaps: true, tension: 0,
          pointRadius: count > MAX_BARS ? 0 : 3, pointHoverRadius: 5
        };
      }
      return {
        label: series.name,
        data: series.data,
        order: 1,
        borderColor: colour(series, index, 1),
        backgroundColor: colour(series, index, drawBars ? 0.85 : (area ? 0.55 : 1)),
        borderWidth: drawBars ? 0 : 1.5,
        fill: area ? (stackedSeries.indexOf(series) === 0 ? "origin" : "-1") : false,
        pointRadius: drawBars || count > MAX_BARS ? 0 : 2,
        pointHoverRadius: 4,
        tension: 0
      };
    });
    // Horizontal bars name their categories at full length: the axis title would collide.
    var category = axis(horizontal ? "" : data.x_label, { stacked: stacked, grid: { display: false },
      ticks: dates ? { autoSkip: true, autoSkipPadding: 16, maxRotation: 0, callback: dateTick(data.labels) }
        : { autoSkip: false, maxRotation: horizontal ? 0 : 45 } });
    var value = axis(data.y_label, { stacked: stacked, beginAtZero: true,
      ticks: allWhole(stackedSeries) ? { precision: 0 } : {} });
    var scales = horizontal ? { x: value, y: category } : { x: category, y: value };
    if (shares.length && !horizontal) {
      scales.share = axis(shares[0].name, { position: "right", min: 0, max: 100,
        grid: { drawOnChartArea: false },
        ticks: { callback: function (tick) { return tick + (shares[0].unit || ""); } } });
    }
    return {
      type: drawBars ? "bar" : "line",
      data: { labels: data.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        interaction: { mode: many ? "nearest" : "index", intersect: false, axis: horizontal ? "y" : "x" },
        plugins: {
          legend: { display: !many && data.series.length > 1, position: "bottom",
            labels: { boxWidth: 12, boxHeight: 12 } },
          filler: { propagate: true }
        },
        scales: scales
      }
    };
  }

  // A scatter. With labels (states), x is a position among them: a number (the label's index,
  // maybe with a jitter) or the label itself, then placed at its index with a jitter of ours,
  // so points of one state spread out instead of hiding each other.
  function scatterConfig(data) {
    var categories = data.labels.slice();
    data.series.forEach(function (series) {
      series.data.forEach(function (point) {
        if (typeof point.x === "string" && categories.indexOf(point.x) < 0) { categories.push(point.x); }
      });
    });
    var categorical = categories.length > 0;
    var lines = percentiles(data.notes);
    var highest = lines.reduce(function (top, line) { return Math.max(top, line.value); }, 0);
    var seen = 0;
    var datasets = data.series.map(function (series, index) {
      return {
        label: series.name,
        data: series.data.map(function (point) {
          seen += 1;
          if (!categorical || typeof point.x !== "string") { return point; }
          var jitter = ((seen * 0.618034) % 1 - 0.5) * 0.6;
          return { x: categories.indexOf(point.x) + jitter, y: point.y, raw: point };
        }),
        backgroundColor: colour(series, index, 0.75),
        borderColor: colour(series, index, 1),
        pointRadius: 3.5,
        pointHoverRadius: 5
      };
    });
    var x = categorical
      ? { type: "linear", min: -0.5, max: categories.length - 0.5,
          // One tick per label, at its index (the range's ends are half a step away).
          afterBuildTicks: function (scale) {
            scale.ticks = categories.map(function (label, index) { return { value: index }; });
          },
          ticks: { autoSkip: false, maxRotation: 0,
            callback: function (value) { return categories[value]; } },
          grid: { display: false } }
      : {};
    return {
      type: "scatter",
      data: { datasets: datasets },
      plugins: [percentileLines],
      options: {
        plugins: {
          legend: { display: data.series.length > 1 && data.series.length <= MAX_LEGEND,
            position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } },
          percentileLines: { lines: lines },
          tooltip: { callbacks: { label: function (item) {
            var point = item.raw.raw || item.raw;
            var name = (point.id ? "#" + point.id + " " : "") + (point.title || item.dataset.label);
            return name + ": " + round(point.y) + (data.y_label ? " (" + data.y_label + ")" : "");
          } } }
        },
        scales: {
          x: axis(data.x_label, x),
          y: axis(data.y_label, { beginAtZero: true, suggestedMax: highest ? highest * 1.1 : undefined })
        }
      }
    };
  }

  function notesText(notes) {
    return Object.keys(notes || {}).filter(function (key) {
      var value = notes[key];
      return typeof value === "number" || typeof value === "string";
    }).map(function (key) {
      var value = notes[key];
      var name = /^p\d+$/.test(key) ? ordinal(parseInt(key.slice(1), 10)) + " percentile"
        : key.replace(/_/g, " ");
      return name + ": " + (typeof value === "number" ? round(value) : value);
    }).join(" · ");
  }

  // The scrolling legend of a chart with many series; each entry shows or hides its series.
  function htmlLegend(box, chart) {
    var list = document.createElement("ul");
    list.className = "chart-legend-list list-unstyled mb-0";
    var toggleAll = document.createElement("button");
    toggleAll.type = "button";
    toggleAll.className = "btn btn-link btn-sm p-0 mb-1 chart-legend-all";
    toggleAll.textContent = "Hide all";
    var entries = chart.data.datasets.map(function (dataset, index) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "chart-legend-item";
      button.setAttribute("aria-pressed", "true");
      // The swatch is drawn as Chart.js draws its own legend's boxes: the dataset's fill, and
      // its border where it has one (a bar's fill is translucent, so its border colour is not
      // the colour seen).
      var swatch = document.createElement("span");
      swatch.className = "chart-swatch";
      swatch.setAttribute("aria-hidden", "true");
      swatch.style.backgroundColor = dataset.backgroundColor;
      swatch.style.borderColor = dataset.borderColor;
      swatch.style.borderWidth = (dataset.borderWidth || 0) + "px";
      button.appendChild(swatch);
      button.appendChild(document.createTextNode(dataset.label));
      button.addEventListener("click", function () {
        var shown = !chart.isDatasetVisible(index);
        chart.setDatasetVisibility(index, shown);
        button.setAttribute("aria-pressed", String(shown));
        chart.update();
      });
      item.appendChild(button);
      list.appendChild(item);
      return button;
    });
    toggleAll.addEventListener("click", function () {
      var show = toggleAll.textContent === "Show all";
      chart.data.datasets.forEach(function (dataset, index) {
        chart.setDatasetVisibility(index, show);
        entries[index].setAttribute("aria-pressed", String(show));
      });
      toggleAll.textContent = show ? "Hide all" : "Show all";
      chart.update();
    });
    var heading = document.createElement("div");
    heading.className = "d-flex justify-content-between align-items-baseline";
    var count = document.createElement("span");
    count.className = "text-body-secondary";
    count.textContent = chart.data.datasets.length + " series: choose which to show";
    heading.appendChild(count);
    heading.appendChild(toggleAll);
    box.replaceChildren(heading, list);
    box.hidden = false;
  }

  function draw(canvas) {
    var card = canvas.closest("[data-chart-card]");
    var status = card.querySelector("[data-chart-status]");
    status.textContent = "Loading…";
    fetch(canvas.dataset.chartUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("the server answered " + response.status); }
        return response.json();
      })
      .then(function (data) {
        card.querySelector("[data-chart-title]").textContent = data.title;
        card.querySelector("[data-chart-how]").textContent = data.how_to_read;
        canvas.setAttribute("aria-label", data.title + ": a chart; its figures are in the table");
        var config = data.type === "scatter" ? scatterConfig(data) : seriesConfig(data, canvas.parentNode);
        config.options.responsive = true;
        config.options.maintainAspectRatio = false;
        config.options.animation = false;
        config.options.normalized = true;
        var chart = new Chart(canvas, config);
        if (data.series.length > MAX_LEGEND) { htmlLegend(card.querySelector("[data-chart-legend]"), chart); }
        var notes = card.querySelector("[data-chart-notes]");
        notes.textContent = notesText(data.notes);
        notes.hidden = notes.textContent === "";
        var empty = data.series.every(function (series) { return series.data.length === 0; });
        status.textContent = empty ? "No data for these filters." : "";
        status.classList.toggle("chart-status-empty", empty);
        canvas.dataset.chartDrawn = "true";
      })
      .catch(function (problem) {
        status.textContent = "This chart could not be drawn (" + problem.message + "). Reload the page to try again.";
        status.classList.add("text-danger");
        canvas.dataset.chartDrawn = "failed";
      });
  }

  // "Table" toggles: load the chart's server-rendered table once, then show or hide it.
  function setUpTables() {
    document.querySelectorAll("[data-table-toggle]").forEach(function (link) {
      var box = document.getElementById(link.dataset.tableToggle);
      if (!box) { return; }
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var open = link.getAttribute("aria-expanded") === "true";
        link.setAttribute("aria-expanded", String(!open));
        link.classList.toggle("active", !open);
        box.hidden = open;
        if (open || box.dataset.loaded) { return; }
        box.dataset.loaded = "loading";
        box.textContent = "Loading the table…";
        fetch(box.dataset.tableUrl, { credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok) { throw new Error("the server answered " + response.status); }
            return response.text();
          })
          .then(function (html) { box.innerHTML = html; box.dataset.loaded = "true"; })
          .catch(function (problem) {
            box.textContent = "The table could not be loaded (" + problem.message + ").";
            delete box.dataset.loaded;
          });
      });
    });
  }

  setUpTables();
  document.querySelectorAll("canvas[data-chart-url]").forEach(draw);
})();
