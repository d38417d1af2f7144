// The diff page: both versions drawn with bpmn-js (NavigatedViewer); on the new one added elements are green
// and changed ones amber, on the old one removed elements are red and changed ones amber. The table above
// lists the same, so the page says everything without JavaScript too.
(function () {
  "use strict";
  if (typeof window.BpmnJS !== "function") { return; }
  var pair = document.querySelector(".diff-pair");
  if (!pair) { return; }
  var marks = JSON.parse(pair.getAttribute("data-marks") || "{}");
  var LABELS = { added: "新增", changed: "改动", removed: "删除" };

  function draw(container) {
    var side = container.getAttribute("data-side");
    var viewer = new window.BpmnJS({ container: container });
    fetch(container.getAttribute("data-xml-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas"), overlays = viewer.get("overlays"), registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        var wanted = marks[side] || {};
        var drawn = 0;
        Object.keys(wanted).forEach(function (id) {
          if (!registry.get(id)) { return; }
          var kind = wanted[id];
          canvas.addMarker(id, "ds-diff-" + kind);
          var badge = document.createElement("span");
          badge.className = "ds-diff-badge ds-diff-badge-" + kind;
          badge.textContent = LABELS[kind] || kind;
          overlays.add(id, "ds-diff", { position: { top: -14, left: 0 }, html: badge });
          drawn += 1;
        });
        container.setAttribute("data-drawn", String(drawn));
      })
      .catch(function (error) {
        container.textContent = "流程图无法显示：" + error.message;
        container.setAttribute("data-drawn", "error");
      });
  }

  pair.querySelectorAll(".diff-diagram[data-xml-url]").forEach(draw);
}());
