// Portfolio map: one circle per building with coordinates, coloured by status. Tiles are a
// background only; offline, the markers still show over the empty map.
(function () {
  var el = document.getElementById("map");
  var data = JSON.parse(document.getElementById("markers").textContent);
  if (!el || typeof L === "undefined") return;
  if (!data.length) { el.style.display = "none"; return; }
  var colours = {ok: "#2e7d32", watch: "#c77700", alert: "#c62828", no_data: "#7a7a7a",
                 none: "#7a7a7a"};
  var map = L.map(el, {preferCanvas: data.length > 1000});  // canvas: thousands of markers
  L.tileLayer(el.dataset.tiles, {maxZoom: 19,
    attribution: "© contributeurs OpenStreetMap"}).addTo(map);
  var pts = [];
  data.forEach(function (m) {
    var c = colours[m[4]] || "#7a7a7a";
    var link = document.createElement("a");
    link.href = "/batiments/" + encodeURIComponent(m[2]);
    link.textContent = m[2] + " — " + m[3];
    L.circleMarker([m[0], m[1]], {radius: 7, color: c, fillColor: c, fillOpacity: 0.8})
      .bindPopup(link).addTo(map);
    pts.push([m[0], m[1]]);
  });
  if (pts.length === 1) map.setView(pts[0], 14); else map.fitBounds(pts, {padding: [20, 20]});
})();
