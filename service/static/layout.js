// Every page: the menu button of the phone layout, and the column names that tables show as cards on a phone.
(function () {
  const header = document.querySelector("header.top"), button = document.getElementById("menu-toggle");
  if (header && button) {
    header.setAttribute("data-menu", "closed");
    button.hidden = false;
    button.addEventListener("click", function () {
      const open = header.getAttribute("data-menu") !== "open";
      header.setAttribute("data-menu", open ? "open" : "closed");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // table.grid rows become cards under 640 px: each cell is labelled with its column's heading
  document.querySelectorAll("table.grid").forEach(function (table) {
    const heads = Array.from(table.querySelectorAll("thead th")).map(function (th) { return th.textContent.trim(); });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.from(tr.children).forEach(function (cell, i) {
        if (!cell.hasAttribute("data-label") && heads[i] && !cell.hasAttribute("colspan")) cell.setAttribute("data-label", heads[i]);
      });
    });
  });
})();
