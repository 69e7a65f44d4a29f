// Job and scan batch pages: a <progress id="job-progress" data-poll="<JSON status URL>"> follows the job
// by itself until it ends (queued, running, then "finishing" while the result is assembled); at the end
// the page reloads once to show the result, its summary and the download button.
(function () {
  const bar = document.getElementById("job-progress");
  if (!bar || !bar.dataset.poll) return;
  const url = bar.dataset.poll, ACTIVE = ["queued", "running", "finishing"];
  function text(id, value) { const el = document.getElementById(id); if (el) el.textContent = value; }
  (function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(r => {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(j => {
      bar.value = j.percent;
      bar.textContent = j.percent + "%";
      text("job-count", j.progress.done + "/" + j.progress.total);
      text("job-message", j.message || "");
      const st = document.getElementById("job-state");
      if (st) { st.textContent = j.state_label; st.dataset.state = j.state; }
      if (ACTIVE.indexOf(j.state) >= 0) { setTimeout(poll, 700); } else { location.reload(); }
    }).catch(() => setTimeout(poll, 2000));
  })();
})();
