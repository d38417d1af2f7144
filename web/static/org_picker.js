// Searchable org choices: a text box marked data-org-search gets suggestions from the server as one types
// (units or people by name or code). Without this script the box still offers its first suggestions
// (a datalist) and the server checks what is submitted.
(function () {
  "use strict";
  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-org-search");
    var timer = null;
    var asked = "";
    if (!list || !url) { return; }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = input.value.trim();
        if (text === asked) { return; }
        asked = text;
        fetch(url + "&q=" + encodeURIComponent(text), {credentials: "same-origin", headers: {"Accept": "application/json"}})
          .then(function (response) { return response.ok ? response.json() : {items: []}; })
          .then(function (answer) {
            if (text !== asked) { return; }
            list.textContent = "";
            answer.items.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.value;
              option.textContent = item.label;
              option.label = item.label;
              list.appendChild(option);
            });
          });
      }, 200);
    });
  }
  document.querySelectorAll("input[data-org-search]").forEach(attach);
}());
