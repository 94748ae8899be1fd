// Charts of the report pages, drawn from the data the server embedded in the page config.

import { config, t } from "frontoffice/shared.js";

const canvas = document.getElementById("rep-chart");

if (canvas && window.Chart && config().chart) {
  const { kind, chart } = config();
  if (kind === "clients") {
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: [
          { label: t("revenue"), data: chart.revenue, backgroundColor: "#0b63ce", yAxisID: "y" },
          { label: t("deliveries"), data: chart.deliveries, backgroundColor: "#f59e0b", yAxisID: "y1" },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          y: { beginAtZero: true, position: "left" },
          y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, ticks: { precision: 0 } },
        },
      },
    });
  } else {
    new Chart(canvas, {
      data: {
        labels: chart.labels,
        datasets: [
          { type: "bar", label: t("delivered"), data: chart.delivered, backgroundColor: "#15803d", stack: "n", yAxisID: "y" },
          { type: "bar", label: t("failed"), data: chart.failed, backgroundColor: "#b91c1c", stack: "n", yAxisID: "y" },
          { type: "line", label: t("average"), data: chart.average, borderColor: "#0b63ce", backgroundColor: "#0b63ce", yAxisID: "y1", spanGaps: true, tension: 0.25 },
          { type: "line", label: t("p90"), data: chart.p90, borderColor: "#7c3aed", backgroundColor: "#7c3aed", borderDash: [4, 3], yAxisID: "y1", spanGaps: true, tension: 0.25 },
          { type: "line", label: t("on_time"), data: chart.on_time, borderColor: "#f59e0b", backgroundColor: "#f59e0b", yAxisID: "y2", spanGaps: true, tension: 0.25 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          y: { beginAtZero: true, stacked: true, ticks: { precision: 0 } },
          y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } },
          y2: { min: 0, max: 100, position: "right", grid: { drawOnChartArea: false }, display: false },
        },
      },
    });
  }
}
