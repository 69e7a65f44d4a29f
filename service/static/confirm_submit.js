// Forms marked data-confirm="question" ask before they are sent (no inline handler: the CSP forbids them).
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
