// Portfolio map: one circle per building with coordinates, coloured by status, and below it
// the buildings without coordinates. Tiles are a background only; offline, the markers still
// show over the empty map. Both come from /carte.json with the page's filters (the page
// itself carries only its 50 rows).
(function () {
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  var colours = {ok: "#2e7d32", watch: "#c77700", alert: "#c62828", no_data: "#7a7a7a",
                 none: "#7a7a7a"};

  var NO_COORDS_SHOWN = 200;

  function listNoCoords(rows) {
    var box = document.querySelector("details.nocoords");
    if (!box || !rows.length) return;
    box.querySelector("summary span").textContent = rows.length.toLocaleString(document.documentElement.lang || "fr");
    var ul = box.querySelector("ul");
    rows.slice(0, NO_COORDS_SHOWN).forEach(function (r) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = "/batiments/" + encodeURIComponent(r[0]);
      a.textContent = r[0] + " — " + r[1];
      li.appendChild(a);
      li.appendChild(document.createTextNode(" (" + r[2] + ")"));
      ul.appendChild(li);
    });
    if (rows.length > NO_COORDS_SHOWN) ul.appendChild(document.createElement("li")).textContent = "…";
    box.hidden = false;
  }

  function draw(doc) {
    listNoCoords(doc.no_coords);
    var data = doc.markers;
    if (!data.length) { el.style.display = "none"; return; }
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
  }

  fetch(el.dataset.markers, {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : {markers: [], no_coords: []}; })
    .then(draw, function () { el.style.display = "none"; });
})();
