// Imports as jobs: the building form is sent to the API (POST /api/v1/jobs/imports, CSRF in
// a header), then GET /api/v1/jobs/{id} is polled until the job ends; the bar is done/total.
(function () {
  var box = document.getElementById("job");
  if (!box) return;
  var bar = document.getElementById("bar"), msg = document.getElementById("jobmsg");
  var out = document.getElementById("jobresult");
  function csrf() {
    var m = document.cookie.match(/(?:^|; )sobriete_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  var fr = document.documentElement.lang === "fr";
  var states = fr ? {queued: "en attente", running: "en cours", done: "terminé",
                     failed: "échec"} : {};
  function show(j) {
    bar.max = j.total || 1; bar.value = j.done || 0;
    box.dataset.state = j.state;
    msg.textContent = (states[j.state] || j.state) + (j.message ? " — " + j.message : "") +
                      (j.error ? " — " + j.error : "");
    if (j.state === "done" && j.result) {
      out.hidden = false; out.textContent = JSON.stringify(j.result, null, 2);
    }
  }
  function poll(id) {
    box.hidden = false; box.dataset.job = id;
    fetch("/api/v1/jobs/" + encodeURIComponent(id), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (!j.state) { msg.textContent = j.detail || j.title || "?"; return; }
        show(j);
        if (j.state === "queued" || j.state === "running") setTimeout(function () { poll(id); }, 700);
      })
      .catch(function (e) { msg.textContent = String(e); });
  }
  var form = document.getElementById("meter-import");
  if (form) form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = new FormData(form);
    if (!data.get("options")) data.delete("options");
    box.hidden = false; msg.textContent = "envoi…"; out.hidden = true;
    fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                        headers: {"X-CSRF-Token": csrf()}})
      .then(function (r) { return r.json(); })
      .then(function (j) { if (j.id) poll(j.id); else msg.textContent = j.detail || j.title; })
      .catch(function (e) { msg.textContent = String(e); });
  });
  if (box.dataset.job) poll(box.dataset.job);
})();
