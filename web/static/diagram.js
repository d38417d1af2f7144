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

  function button(label, title, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary small";
    b.textContent = label;
    b.title = title;
    b.addEventListener("click", action);
    return b;
  }

  // 放大 / 缩小 / 适应宽度: labels stay readable on a phone and on a long diagram.
  function tools(container, viewer) {
    var canvas = viewer.get("canvas");
    var bar = document.createElement("div");
    bar.className = "diagram-tools";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "流程图缩放");
    bar.appendChild(button("放大", "放大流程图", function () { canvas.zoom(canvas.zoom() * 1.25); }));
    bar.appendChild(button("缩小", "缩小流程图", function () { canvas.zoom(canvas.zoom() / 1.25); }));
    bar.appendChild(button("适应宽度", "整张流程图放进框内", function () { canvas.zoom("fit-viewport", "auto"); }));
    container.parentNode.insertBefore(bar, container);
  }

  // Fit the whole diagram, but never below a zoom where labels turn unreadable: then scroll instead.
  function fit(viewer) {
    var canvas = viewer.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    if (canvas.zoom() < 0.6) {
      var inner = canvas.viewbox().inner;
      canvas.zoom(0.6);
      var box = canvas.viewbox();
      canvas.viewbox({ x: inner.x - 10, y: inner.y - 10, width: box.width, height: box.height });
    }
  }

  function draw(container) {
    var note = container.querySelector(".nojs");
    if (note) { note.parentNode.removeChild(note); }
    container.classList.add("drawing");
    var viewer = new window.BpmnJS({ container: container });
    var data = JSON.parse(container.getAttribute("data-marks") || "{}");
    fetch(container.getAttribute("data-xml-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("服务器返回 " + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        fit(viewer);
        mark(viewer, data);
        tools(container, viewer);
        container.classList.add("drawn");
        container.setAttribute("data-drawn", "true");
        var fallback = container.parentNode.querySelector("details.fallback");
        if (fallback) { fallback.open = false; }  // the drawing says it; the table stays one click away
      })
      .catch(function (error) {
        container.textContent = "流程图无法显示（" + error.message + "），请查看下面的各环节执行情况";
        container.setAttribute("data-drawn", "error");
      });
  }

  document.querySelectorAll(".diagram[data-xml-url]").forEach(draw);
}());
