// Follows a background job (GET /api/v1/jobs/{id}) until it ends; the bar shows done/total.
(function () {
  var box = document.getElementById("job");
  if (!box) return;
  var bar = document.getElementById("bar"), msg = document.getElementById("jobmsg");
  function poll() {
    fetch("/api/v1/jobs/" + encodeURIComponent(box.dataset.job), {credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (res) {
        var ok = res[0], j = res[1];
        if (!ok) { msg.textContent = j.detail || j.title || "?"; return; }
        bar.max = j.total || 1; bar.value = j.done || 0;
        msg.textContent = (j.state || "") + " — " + (j.message || "");
        if (["done", "failed", "cancelled", "error"].indexOf(j.state) < 0) setTimeout(poll, 1000);
      })
      .catch(function (e) { msg.textContent = String(e); });
  }
  poll();
})();
