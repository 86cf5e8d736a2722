// Progressive enhancement only (the site works without this file): "/" focuses the search box.
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

// 在结果中检索: ticking the box empties the search box for the new words (and unticking restores the query).
(function () {
  "use strict";
  var box = document.getElementById("refine");
  var input = document.getElementById("header-q");
  if (!box || !input) return;
  var query = input.value;
  box.addEventListener("change", function () {
    if (box.checked) {
      query = input.value;
      input.value = "";
      input.placeholder = "在当前结果中检索…";
    } else {
      input.value = query;
      input.placeholder = "输入检索词，按 / 聚焦";
    }
    input.focus();
  });
})();
