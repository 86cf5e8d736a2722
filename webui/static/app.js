// Progressive enhancement only (the site works without this file): "/" focuses the search box, the
// search boxes offer completions from /api/suggest as an ARIA combobox with a listbox (WAI-ARIA APG
// "combobox with listbox popup"): arrow keys move through the options, Enter searches the chosen one,
// Escape closes the list, and the mouse works too; and 在结果中检索 empties the box for the new words.
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

  var KIND_LABELS = { history: "搜索过", word: "篇", headline: "篇", pinyin: "篇" };
  var DELAY_MS = 60;

  function enhance(input, number) {
    var form = input.form;
    var listId = "suggest-list-" + number;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "检索建议");
    list.hidden = true;
    form.classList.add("has-suggestions");
    form.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");

    var items = [];
    var active = -1;
    var timer = null;
    var latest = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function choose(index) {
      active = index;
      items.forEach(function (item, position) {
        item.setAttribute("aria-selected", position === index ? "true" : "false");
      });
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function submit(text) {
      input.value = text;
      close();
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }

    function show(suggestions) {
      list.textContent = "";
      items = suggestions.map(function (suggestion, position) {
        var item = document.createElement("li");
        item.id = listId + "-" + position;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.text = suggestion.text;
        var text = document.createElement("span");
        text.textContent = suggestion.text;
        var count = document.createElement("span");
        count.className = "n";
        count.textContent = suggestion.kind === "history"
          ? KIND_LABELS.history + " " + suggestion.count + " 次" : suggestion.count + " " + KIND_LABELS[suggestion.kind];
        item.appendChild(text);
        item.appendChild(count);
        item.addEventListener("mousedown", function (event) { event.preventDefault(); });
        item.addEventListener("click", function () { submit(suggestion.text); });
        list.appendChild(item);
        return item;
      });
      active = -1;
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
    }

    function fetchSuggestions() {
      var q = input.value.trim();
      var ticket = ++latest;
      if (!q) { close(); return; }
      fetch("/api/suggest?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) { if (ticket === latest) show(data.suggestions || []); })
        .catch(function () { if (ticket === latest) close(); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && items.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) { fetchSuggestions(); return; }
        choose(active + 1 < items.length ? active + 1 : 0);
      } else if (event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        choose(active > 0 ? active - 1 : items.length - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          submit(items[active].dataset.text);
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  document.querySelectorAll("form.searchbox input[name=q]").forEach(enhance);
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
