// The campaign screen: "In danh sách" prints the list of sheets not returned (print CSS hides the rest).
(function () {
  const link = document.getElementById("print-link");
  if (link) link.addEventListener("click", e => { e.preventDefault(); window.print(); });
})();
