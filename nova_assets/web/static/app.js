// Draws the page's Plotly figures (built on the server) and wires the few interactions; no inline script.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("charts");
  if (data && window.Plotly) {
    for (const figure of JSON.parse(data.textContent)) {
      const target = document.getElementById(figure.target);
      if (target) {
        window.Plotly.newPlot(target, figure.data, figure.layout, { displaylogo: false, responsive: true, locale: "pt-BR" });
        target.dataset.rendered = "true";
      }
    }
  }
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
});
