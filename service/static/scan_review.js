// Scan page review: fit the field overlay to the page image, and keyboard shortcuts for the review form.
(function () {
  const img = document.getElementById("page-img"), svg = document.getElementById("overlay");
  if (img && svg) {
    const fit = () => svg.setAttribute("viewBox", "0 0 " + img.naturalWidth + " " + img.naturalHeight);
    if (img.complete) fit(); else img.addEventListener("load", fit);
  }
})();
(function () {
  const items = Array.from(document.querySelectorAll("fieldset.item"));
  let cur = Math.max(0, items.findIndex(f => !f.querySelector("input:checked")));
  function focus(i) {
    if (!items.length) return;
    cur = (i + items.length) % items.length; items[cur].focus();
    items.forEach((f, k) => f.classList.toggle("current", k === cur));
  }
  focus(cur);
  document.addEventListener("keydown", e => {
    if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName) && e.target.type !== "radio") return;
    const k = e.key.toLowerCase();
    if (k === "j") { focus(cur + 1); e.preventDefault(); }
    else if (k === "k") { focus(cur - 1); e.preventDefault(); }
    else if (["1", "2", "3", "4"].includes(k) && items[cur]) { const r = items[cur].querySelectorAll("input[type=radio]")[+k - 1]; if (r) { r.checked = true; focus(cur + 1); } e.preventDefault(); }
    else if (k === "a" && document.getElementById("accept")) { document.getElementById("review-form").submit(); }
    else if (k === "r" && document.getElementById("reject")) { document.getElementById("reject-form").requestSubmit(); }
    else if (k === "n" && document.getElementById("skip")) { location.href = document.getElementById("skip").href; }
    else if (k === "u" && document.getElementById("undo")) { document.getElementById("undo").closest("form").requestSubmit(); }
  });
})();
