// Clustering run page: reload when the run's job finishes (the jobs progress partial polls
// itself with htmx), and draw the charts of a finished run with Chart.js.
(function () {
  "use strict";

  const pending = document.querySelector("[data-reload-when-finished]");
  if (pending) {
    document.body.addEventListener("htmx:afterSettle", function () {
      const job = pending.querySelector(".job");
      if (job && (job.dataset.status === "succeeded" || job.dataset.status === "failed")) {
        window.location.reload();
      }
    });
  }

  const source = document.getElementById("clustering-chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const palette = ["#2f5bea", "#e8772e", "#2a9d6f", "#c2407a", "#7a5af0", "#c9a227", "#3aa4c9", "#8a8f98",
                   "#b5482d", "#5c8a2e", "#d46fb0", "#34568b"];
  const colour = (index) => palette[index % palette.length];
  const common = {animation: false, responsive: true, maintainAspectRatio: false};

  new Chart(document.getElementById("cluster-sizes-chart"), {
    type: "bar",
    data: {
      labels: data.clusters,
      datasets: [{label: data.labels.customers, data: data.sizes, backgroundColor: data.clusters.map((_, i) => colour(i))}],
    },
    options: {...common, plugins: {legend: {display: false}}, scales: {y: {beginAtZero: true}}},
  });

  new Chart(document.getElementById("cluster-means-chart"), {
    type: "bar",
    data: {
      labels: data.features,
      datasets: data.clusters.map((name, i) => ({label: name, data: data.z[i], backgroundColor: colour(i)})),
    },
    options: {...common, scales: {y: {title: {display: true, text: data.labels.z}}}},
  });

  const silhouette = document.getElementById("silhouette-chart");
  if (silhouette && data.silhouette.length) {
    new Chart(silhouette, {
      type: "line",
      data: {
        labels: data.silhouette.map((point) => point.k),
        datasets: [{label: data.labels.silhouette, data: data.silhouette.map((point) => point.score),
                    borderColor: colour(0), backgroundColor: colour(0), tension: 0.2}],
      },
      options: {...common, plugins: {legend: {display: false}},
                scales: {x: {title: {display: true, text: data.labels.k}}, y: {title: {display: true, text: data.labels.silhouette}}}},
    });
  }
})();
