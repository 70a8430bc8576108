// Draws the page's Plotly figures (built on the server) and wires the few interactions; no inline script.
// plotly.js (4.8 MB, from the plotly wheel) is fetched only on pages with charts, after the page is usable.
"use strict";

function drawCharts(figures) {
  for (const figure of figures) {
    const target = document.getElementById(figure.target);
    if (target) {
      window.Plotly.newPlot(target, figure.data, figure.layout, { displaylogo: false, responsive: true });
      target.dataset.rendered = "true";
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  const data = document.getElementById("charts");
  if (!data) return;
  const figures = JSON.parse(data.textContent);
  const script = document.createElement("script");
  script.src = "/static/vendor/plotly.min.js";
  script.onload = () => drawCharts(figures);
  document.head.appendChild(script);
});
