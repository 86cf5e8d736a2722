// Progressive enhancement only: "/" focuses the search box (the site works without this file).
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
    var box = document.querySelector("input[name=q]");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
})();
