// The transcription queue: Enter saves and goes to the next remark, Shift+Enter a new line, Esc skips,
// Ctrl+K marks the remark unreadable (the crop stays on the record; confirm.js asks first).
(function () {
  const text = document.getElementById("remark-text"), form = document.getElementById("transcribe-form");
  text.focus();
  text.addEventListener("keydown", e => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.submit(); }
    else if (e.key === "Escape") { e.preventDefault(); location.href = document.getElementById("skip").href; }
    else if ((e.ctrlKey || e.metaKey) && (e.key === "k" || e.key === "K")) {
      e.preventDefault(); document.getElementById("unreadable").click();
    }
  });
})();
