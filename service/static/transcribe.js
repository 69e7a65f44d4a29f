// The transcription queue: Enter saves and goes to the next remark, Shift+Enter a new line, Esc skips.
(function () {
  const text = document.getElementById("remark-text"), form = document.getElementById("transcribe-form");
  text.focus();
  text.addEventListener("keydown", e => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.submit(); }
    else if (e.key === "Escape") { e.preventDefault(); location.href = document.getElementById("skip").href; }
  });
})();
