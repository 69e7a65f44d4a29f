// Job page: show the progress bar, and while the job runs poll its state (data-poll) and update the page.
(function () {
  const bar = document.getElementById("job-progress");
  if (!bar) return;
  function show(percent) {
    bar.firstElementChild.style.width = percent + "%";
    bar.setAttribute("aria-valuenow", percent);
  }
  show(+bar.getAttribute("aria-valuenow") || 0);
  const url = bar.dataset.poll;
  if (!url) return;
  (function poll() {
    fetch(url, {credentials: "same-origin"}).then(r => r.json()).then(j => {
      show(j.percent);
      document.getElementById("job-count").textContent = j.progress.done + "/" + j.progress.total;
      document.getElementById("job-message").textContent = j.message || "";
      const st = document.getElementById("job-state");
      st.textContent = j.state_label; st.dataset.state = j.state;
      if (j.state === "queued" || j.state === "running") { setTimeout(poll, 700); } else { location.reload(); }
    }).catch(() => setTimeout(poll, 2000));
  })();
})();
