// Forms with data-confirm="..." ask before they are sent (destructive actions: undo an import, ...).
document.addEventListener("submit", function (e) {
  var message = e.target.getAttribute && e.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { e.preventDefault(); }
});
