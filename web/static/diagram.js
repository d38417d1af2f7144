// Draws each case diagram with bpmn-js (NavigatedViewer, from npm) and marks what ran, what is open,
// what is overdue and what failed, with run counts. The pages work without it: a table says the same.
(function () {
  "use strict";
  if (typeof window.BpmnJS !== "function") { return; }
  var STATES = ["completed", "active", "overdue", "errored"];

  function mark(viewer, data) {
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    Object.keys(data.marks || {}).forEach(function (id) {
      var element = registry.get(id);
      var m = data.marks[id];
      if (!element) { return; }
      m.states.forEach(function (state) {
        if (STATES.indexOf(state) >= 0) { canvas.addMarker(id, "ds-" + state); }
      });
      if (m.count > 0) {
        var badge = document.createElement("span");
        badge.className = "ds-count" + (m.states.indexOf("overdue") >= 0 ? " ds-overdue"
          : (m.states.indexOf("active") >= 0 ? " ds-active" : ""));
        badge.textContent = "×" + m.count;
        badge.title = "执行 " + m.count + " 次";
        overlays.add(id, "ds-count", { position: { top: -12, right: 8 }, html: badge });
      }
    });
    (data.flows || []).forEach(function (flow) {
      registry.filter(function (element) {
        var bo = element.businessObject;
        return element.type === "bpmn:SequenceFlow" && bo.sourceRef && bo.targetRef &&
          bo.sourceRef.id === flow[0] && bo.targetRef.id === flow[1];
      }).forEach(function (connection) { canvas.addMarker(connection.id, "ds-taken"); });
    });
  }

  function draw(container) {
    var viewer = new window.BpmnJS({ container: container });
    var data = JSON.parse(container.getAttribute("data-marks") || "{}");
    fetch(container.getAttribute("data-xml-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        viewer.get("canvas").zoom("fit-viewport");
        mark(viewer, data);
        container.setAttribute("data-drawn", "true");
      })
      .catch(function (error) {
        container.textContent = "流程图无法显示：" + error.message;
        container.setAttribute("data-drawn", "error");
      });
  }

  document.querySelectorAll(".diagram[data-xml-url]").forEach(draw);
}());
