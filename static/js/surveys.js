// Survey results page: draw the NPS, CSAT and choice-per-week charts with Chart.js from the
// data the page embeds (#survey-chart-data). The figures themselves are in the page's HTML.
(function () {
  "use strict";

  const source = document.getElementById("survey-chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const palette = ["#2f5bea", "#e8772e", "#2a9d6f", "#c2407a", "#7a5af0", "#c9a227", "#3aa4c9", "#8a8f98"];
  const colour = (index) => palette[index % palette.length];
  const common = {animation: false, responsive: true, maintainAspectRatio: false};

  data.charts.forEach(function (chart) {
    const canvas = document.getElementById(chart.id);
    if (!canvas) {
      return;
    }
    if (chart.type === "nps") {
      new Chart(canvas, {
        type: "bar",
        data: {labels: chart.labels, datasets: [{label: data.labels.answers, data: chart.data,
                                                 backgroundColor: ["#c0362c", "#c9a227", "#2a9d6f"]}]},
        options: {...common, plugins: {legend: {display: false}}, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}},
      });
    } else if (chart.type === "csat") {
      new Chart(canvas, {
        type: "bar",
        data: {labels: chart.labels, datasets: [{label: data.labels.answers, data: chart.data, backgroundColor: colour(0)}]},
        options: {...common, plugins: {legend: {display: false}}, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}},
      });
    } else if (chart.type === "weekly") {
      new Chart(canvas, {
        type: "bar",
        data: {labels: chart.labels,
               datasets: chart.series.map((series, i) => ({label: series.label, data: series.data, backgroundColor: colour(i)}))},
        options: {...common, scales: {x: {stacked: true, title: {display: true, text: data.labels.week}},
                                      y: {stacked: true, beginAtZero: true, ticks: {precision: 0}}}},
      });
    }
  });
})();
