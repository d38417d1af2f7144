// The monthly report's charts, drawn with chart.js (served from node_modules) from the figures the page embeds
// in #report-charts. The tables of the page hold every number too, so the page works without this script.
(function () {
  "use strict";
  var source = document.getElementById("report-charts");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var Chart = window.Chart;
  var RED = "#8b1a1a", PALETTE = ["#8b1a1a", "#1565c0", "#f9a825", "#2e7d32", "#6a1b9a", "#00838f", "#ef6c00",
    "#5d4037", "#546e7a", "#c2185b", "#9e9d24", "#283593"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = "#1f2933";
  Chart.defaults.animation = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) {
      new Chart(canvas, config);
    }
  }

  function empty(values) {
    return values.every(function (v) { return !v; });
  }

  function placeholder(id, text) {
    var canvas = document.getElementById(id);
    if (canvas) {
      var note = document.createElement("p");
      note.className = "muted";
      note.textContent = text;
      canvas.parentNode.replaceChild(note, canvas);
    }
  }

  // The trend: petitions of each month stacked by channel, and the persons of the visits as a line.
  var trend = data.trend;
  var series = trend.series.map(function (one, i) {
    return { type: "bar", label: one.label, data: one.values, backgroundColor: PALETTE[i], stack: "petitions",
      order: 2 };
  });
  series.push({ type: "line", label: "来访人次", data: trend.persons, borderColor: "#37474f", backgroundColor: "#37474f",
    borderDash: [5, 3], pointRadius: 3, tension: 0.2, order: 1 });
  draw("chart-trend", {
    type: "bar",
    data: { labels: trend.labels, datasets: series },
    options: {
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            footer: function (items) {
              var total = items.filter(function (item) { return item.dataset.stack === "petitions"; })
                .reduce(function (sum, item) { return sum + item.parsed.y; }, 0);
              return "信访总量：" + total;
            }
          }
        }
      }
    }
  });

  // Townships (county view) or villages (township view): this month against the month before.
  var places = data.places;
  if (places.labels.length) {
    draw("chart-places", {
      type: "bar",
      data: {
        labels: places.labels,
        datasets: [
          { label: places.month, data: places.current, backgroundColor: RED },
          { label: places.previous_month, data: places.previous, backgroundColor: "#b0bec5" }
        ]
      },
      options: {
        indexAxis: "y", maintainAspectRatio: false,
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { autoSkip: false } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  } else {
    placeholder("chart-places", "本月和上月都没有信访。");
  }

  // Categories of this month's petitions, most first.
  var categories = data.categories;
  if (categories.labels.length) {
    draw("chart-categories", {
      type: "bar",
      data: { labels: categories.labels,
        datasets: [{ label: "件（批）", data: categories.values, backgroundColor: PALETTE.slice(1) }] },
      options: {
        indexAxis: "y", maintainAspectRatio: false,
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { autoSkip: false } } },
        plugins: { legend: { display: false } }
      }
    });
  } else {
    placeholder("chart-categories", "本月没有信访事项。");
  }

  // Satisfaction of the cases closed this month.
  var satisfaction = data.satisfaction;
  if (!empty(satisfaction.values)) {
    draw("chart-satisfaction", {
      type: "doughnut",
      data: { labels: satisfaction.labels,
        datasets: [{ data: satisfaction.values,
          backgroundColor: ["#2e7d32", "#66bb6a", "#c5e1a5", "#ef9a9a", "#c62828"] }] },
      options: { maintainAspectRatio: false, plugins: { legend: { position: "right" } } }
    });
  } else {
    placeholder("chart-satisfaction", "本月没有评价。");
  }
}());
