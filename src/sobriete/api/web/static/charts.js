// Building page charts (uPlot): load curve with the baseline and its band, energy signature,
// months of year N against N-1. Data come from the page (#view-data), times in UTC seconds.
(function () {
  var node = document.getElementById("view-data");
  if (!node || typeof uPlot === "undefined") return;
  var d = JSON.parse(node.textContent);
  var fr = d.lang === "fr";
  var palette = ["#1b5e9e", "#c77700", "#6a1b9a", "#2e7d32", "#00838f"];
  function width(el) { return Math.max(300, el.clientWidth || 800); }
  function fmt(v) { return v == null ? "–" : v.toLocaleString(fr ? "fr-FR" : "en-GB",
                                                               {maximumFractionDigits: 1}); }

  var curve = document.getElementById("curve");
  if (curve && d.curve.length) {
    var xs = d.curve[0].t, data = [xs], series = [{}], bands = [];
    d.curve.forEach(function (c, i) {
      data.push(c.kwh);
      series.push({label: c.key + " (kWh)", stroke: palette[i % palette.length], width: 1.5,
                   value: function (u, v) { return fmt(v); }});
    });
    d.baseline.forEach(function (b) {
      if (!b.available) return;
      var hi = data.length;
      data.push(b.high_kwh); data.push(b.low_kwh); data.push(b.predicted_kwh);
      series.push({label: (fr ? "haut de bande " : "band high ") + b.key,
                   stroke: "rgba(120,120,120,0.4)", width: 1, dash: [4, 4],
                   value: function (u, v) { return fmt(v); }});
      series.push({label: (fr ? "bas de bande " : "band low ") + b.key,
                   stroke: "rgba(120,120,120,0.4)", width: 1, dash: [4, 4],
                   value: function (u, v) { return fmt(v); }});
      series.push({label: (fr ? "référence " : "baseline ") + b.key, stroke: "#555", width: 1,
                   dash: [8, 4], value: function (u, v) { return fmt(v); }});
      bands.push({series: [hi, hi + 1], fill: "rgba(120,120,120,0.15)"});
    });
    new uPlot({width: width(curve), height: 320, series: series, bands: bands,
               axes: [{}, {label: "kWh", size: 60}], scales: {x: {time: true}}}, data, curve);
  }

  var sig = document.getElementById("signature");
  if (sig && d.signature.length) {
    var pts = d.signature.slice().sort(function (a, b) { return a[0] - b[0]; });
    new uPlot({width: width(sig), height: 260, mode: 1,
               series: [{label: "°C"}, {label: fr ? "kWh/jour" : "kWh/day", stroke: "#1b5e9e",
                        width: 0, points: {show: true, size: 4, fill: "#1b5e9e"}}],
               scales: {x: {time: false}},
               axes: [{label: fr ? "température moyenne du jour (°C)" : "daily mean temperature (°C)"},
                      {label: "kWh", size: 60}]},
              [pts.map(function (p) { return p[0]; }), pts.map(function (p) { return p[1]; })],
              sig);
  }

  var mon = document.getElementById("monthly");
  if (mon && d.monthly.months.length) {
    var idx = d.monthly.months.map(function (_, i) { return i; });
    var bars = uPlot.paths.bars;
    new uPlot({width: width(mon), height: 260,
               series: [{label: fr ? "mois" : "month",
                         value: function (u, v) { return v == null ? "" : d.monthly.months[v]; }},
                        {label: "N (kWh)", fill: "rgba(27,94,158,0.7)", stroke: "#1b5e9e",
                         paths: bars({size: [0.4], align: -1})},
                        {label: "N-1 (kWh)", fill: "rgba(199,119,0,0.5)", stroke: "#c77700",
                         paths: bars({size: [0.4], align: 1})}],
               scales: {x: {time: false, range: [-0.6, idx.length - 0.4]},
                       y: {range: function (u, lo, hi) { return [0, hi * 1.05]; }}},
               axes: [{values: function (u, ticks) { return ticks.map(function (v) {
                         return d.monthly.months[v] ? d.monthly.months[v].slice(2) : ""; }); },
                       splits: function () { return idx; }},
                      {label: "kWh", size: 70}]},
              [idx, d.monthly.n_kwh, d.monthly.n1_kwh], mon);
  }
})();
