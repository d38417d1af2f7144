// The designer's editor: the bpmn-js Modeler (from npm, served by Flask) on a draft, Doorstep's property panel,
// problems drawn on their elements, saving with optimistic locking (a 409 keeps the designer's own text), the
// scenario run and deployment. The server does every check; this script only shows what it says.
(function () {
  "use strict";
  var root = document.getElementById("designer");
  if (!root || typeof window.BpmnJS !== "function" || !window.DoorstepPanel) { return; }

  var $ = function (id) { return document.getElementById(id); };
  var data = root.dataset;
  var modeler = new window.BpmnJS({
    container: $("canvas"),
    moddleExtensions: { spiffworkflow: window.DoorstepPanel.SPIFF_MODDLE }
  });
  var canvas = modeler.get("canvas"), overlays = modeler.get("overlays"), registry = modeler.get("elementRegistry");
  var selection = modeler.get("selection");
  var state = { rowVersion: null, forms: {}, knownForms: [], problems: [], dirty: false, busy: false,
    conflict: null, checkTimer: null, untaken: [] };

  var panel = new window.DoorstepPanel.Panel(modeler, $("panel"), {
    roles: JSON.parse(data.roles || "[]"),
    forms: function () { return state.forms; },
    knownForms: function () { return state.knownForms.concat(Object.keys(state.forms)); },
    setForm: function (name, text) { state.forms[name] = text; changed(); },
    problemsOf: function (id) { return state.problems.filter(function (p) { return p.here && p.element === id; }); }
  });

  function fit() {
    // the whole diagram, with room on the left for the palette
    canvas.zoom("fit-viewport", "auto");
    canvas.zoom(canvas.viewbox().scale * 0.86, "auto");
    canvas.scroll({ dx: 60, dy: 0 });
  }

  function status(text, kind) {
    var box = $("status");
    box.textContent = text;
    box.className = "status" + (kind ? " " + kind : "");
  }

  function request(url, body) {
    return fetch(url, {
      method: body === undefined ? "GET" : "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRF-Token": data.csrf },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (text) {
        var parsed = null;
        try { parsed = JSON.parse(text); } catch (ignored) { parsed = null; }
        return { status: response.status, body: parsed, text: text };
      });
    });
  }

  function currentXml() {
    if (document.activeElement && $("panel").contains(document.activeElement)) {
      document.activeElement.blur(); // commits the field being typed in (its change event)
    }
    return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
  }

  // -- problems on the diagram ----------------------------------------------------------------------------
  function showProblems(problems) {
    state.problems = problems || [];
    overlays.remove({ type: "ds-problem" });
    registry.forEach(function (element) { canvas.removeMarker(element.id, "ds-problem"); });
    var byElement = {};
    state.problems.forEach(function (p) {
      if (p.here && p.element && registry.get(p.element)) {
        (byElement[p.element] = byElement[p.element] || []).push(p);
      }
    });
    Object.keys(byElement).forEach(function (id) {
      var element = registry.get(id), found = byElement[id];
      canvas.addMarker(id, "ds-problem");
      var badge = document.createElement("div");
      badge.className = "ds-problem-badge";
      badge.setAttribute("data-element", id);
      badge.setAttribute("role", "note");
      var count = document.createElement("span");
      count.className = "ds-problem-count";
      count.textContent = "⚠ " + found.length;
      var text = document.createElement("div");
      text.className = "ds-problem-text";
      text.textContent = found.map(function (p) { return p.message; }).join("\n");
      badge.appendChild(count);
      badge.appendChild(text);
      badge.addEventListener("click", function () { selection.select(element); });
      var position = element.waypoints ? { top: -10, left: -10 } : { top: -16, left: -16 };
      overlays.add(id, "ds-problem", { position: position, html: badge });
    });
    var list = $("problem-list");
    list.textContent = "";
    state.problems.forEach(function (p) {
      var item = document.createElement("li");
      item.className = p.element && byElement[p.element] ? "on-diagram" : "elsewhere";
      if (p.element) { item.setAttribute("data-element", p.element); }
      var where = document.createElement("code");
      where.textContent = p.file + ":" + (p.line || 0) + ": " + (p.element || "-");
      item.appendChild(where);
      item.appendChild(document.createTextNode(" " + p.message));
      if (p.element && registry.get(p.element)) {
        item.addEventListener("click", function () {
          selection.select(registry.get(p.element));
          canvas.scrollToElement(registry.get(p.element));
        });
      }
      list.appendChild(item);
    });
    $("problem-count").textContent = state.problems.length ? "（" + state.problems.length + " 个问题）" : "（没有问题）";
    root.setAttribute("data-problems", String(state.problems.length));
    if (panel.element) { panel.show(registry.get(panel.element.id) || null); }
  }

  function check() {
    state.checkTimer = null;
    return currentXml().then(function (xml) {
      return request(data.checkUrl, { bpmn: xml, forms: state.forms });
    }).then(function (answer) {
      if (answer.status === 200 && answer.body) { showProblems(answer.body.problems); }
    });
  }

  function changed() {
    state.dirty = true;
    root.setAttribute("data-dirty", "true");
    if (state.checkTimer) { clearTimeout(state.checkTimer); }
    state.checkTimer = setTimeout(check, 800);
  }

  // -- loading and saving ---------------------------------------------------------------------------------
  function load() {
    request(data.stateUrl).then(function (answer) {
      if (answer.status !== 200 || !answer.body) { throw new Error("HTTP " + answer.status); }
      var body = answer.body;
      state.rowVersion = body.row_version;
      state.forms = body.forms || {};
      state.knownForms = body.known_forms || [];
      return modeler.importXML(body.bpmn).then(function (result) {
        fit();
        showProblems(body.problems);
        var warnings = (result.warnings || []).length;
        status(warnings ? "已加载；导入时有 " + warnings + " 条警告，部分内容可能无法在此编辑" :
          (body.row_version ? "已加载草稿第 " + body.row_version + " 稿" : "已加载已部署的 v" + body.based_on_version),
        warnings ? "warn" : "");
        root.setAttribute("data-ready", "true");
      });
    }).catch(function (error) {
      status("流程图无法加载：" + error.message, "error");
      root.setAttribute("data-ready", "error");
    });
  }

  function save(overwrite) {
    if (state.busy) { return Promise.resolve(false); }
    state.busy = true;
    status("正在保存并检查…");
    return currentXml().then(function (xml) {
      var rowVersion = overwrite && state.conflict && state.conflict.theirs ? state.conflict.theirs.row_version
        : (overwrite && state.conflict ? null : state.rowVersion);
      return request(data.saveUrl, { bpmn: xml, forms: state.forms, row_version: rowVersion });
    }).then(function (answer) {
      state.busy = false;
      if (answer.status === 200) {
        state.rowVersion = answer.body.row_version;
        state.dirty = false;
        state.conflict = null;
        $("conflict").hidden = true;
        root.setAttribute("data-dirty", "false");
        root.setAttribute("data-row-version", String(state.rowVersion));
        showProblems(answer.body.problems);
        var count = answer.body.problems.length;
        status("已保存草稿第 " + state.rowVersion + " 稿；" + (count ? "发现 " + count + " 个问题，已在图上标出" : "检查通过"),
          count ? "warn" : "ok");
        $("draft-info").textContent = "草稿第 " + state.rowVersion + " 稿 · " + answer.body.saved_by;
        return true;
      }
      if (answer.status === 409 && answer.body) {
        showConflict(answer.body);
        return false;
      }
      if (answer.body && answer.body.error) {
        if (answer.body.error.problems) { showProblems(answer.body.error.problems); }
        status(answer.body.error.message, "error");
      } else {
        status("保存失败（HTTP " + answer.status + "）；您的内容仍在编辑器中", "error");
      }
      return false;
    }).catch(function (error) {
      state.busy = false;
      status("保存失败：" + error.message + "；您的内容仍在编辑器中", "error");
      return false;
    });
  }

  function showConflict(body) {
    state.conflict = body;
    $("conflict-message").textContent = body.error.message;
    $("conflict-theirs").hidden = !body.theirs;
    $("conflict-download-theirs").hidden = !body.theirs;
    $("conflict").hidden = false;
    root.setAttribute("data-conflict", "true");
    status("未保存：草稿已被他人修改。您的内容仍在编辑器中。", "error");
  }

  function download(name, text) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/xml" }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  var base = data.file.replace(/\.bpmn$/, "");
  $("conflict-overwrite").addEventListener("click", function () { save(true); });
  $("conflict-download-mine").addEventListener("click", function () {
    currentXml().then(function (xml) { download(base + "-mine.bpmn", xml); });
  });
  $("conflict-download-theirs").addEventListener("click", function () {
    if (state.conflict && state.conflict.theirs) { download(base + "-theirs.bpmn", state.conflict.theirs.bpmn); }
  });
  $("conflict-theirs").addEventListener("click", function () {
    var theirs = state.conflict && state.conflict.theirs;
    if (!theirs) { return; }
    currentXml().then(function (xml) {
      download(base + "-mine.bpmn", xml);
      return modeler.importXML(theirs.bpmn);
    }).then(function () {
      state.forms = theirs.forms || {};
      state.rowVersion = theirs.row_version;
      state.dirty = false;
      state.conflict = null;
      $("conflict").hidden = true;
      fit();
      status("已载入 " + theirs.saved_by + " 保存的第 " + theirs.row_version + " 稿；您的版本已下载", "ok");
      return check();
    });
  });

  // -- scenarios and deployment ---------------------------------------------------------------------------
  function saved() {
    return state.dirty || state.rowVersion === null ? save(false) : Promise.resolve(true);
  }

  function showScenarios(body) {
    var box = $("scenario-results");
    box.textContent = "";
    state.untaken.forEach(function (id) { if (registry.get(id)) { canvas.removeMarker(id, "ds-untaken"); } });
    if (body.problems && body.problems.length) {
      box.appendChild(paragraph("草稿未通过检查，场景测试没有运行（问题见上方检查结果）。", "error"));
      showProblems(body.problems);
      return;
    }
    var table = document.createElement("table");
    table.className = "scenarios";
    table.innerHTML = "<tr><th>场景</th><th>结果</th><th>出错的步骤</th><th>说明</th></tr>";
    body.scenarios.forEach(function (s) {
      var row = table.insertRow();
      row.className = s.passed ? "passed" : "failed";
      row.insertCell().textContent = s.name;
      var verdict = row.insertCell();
      verdict.innerHTML = s.passed ? "<span class=\"badge completed\">通过</span>" : "<span class=\"badge overdue\">失败</span>";
      row.insertCell().textContent = s.step === null ? "" : "第 " + s.step + " 步";
      row.insertCell().textContent = s.message;
    });
    if (!body.scenarios.length) { box.appendChild(paragraph("此流程还没有场景。", "muted")); } else { box.appendChild(table); }
    state.untaken = body.untaken.map(function (f) { return f.id; });
    var passed = body.scenarios.filter(function (s) { return s.passed; }).length;
    box.appendChild(paragraph(passed + " 个通过，" + (body.scenarios.length - passed) + " 个失败；" +
      (body.untaken.length ? body.untaken.length + " 条顺序流没有场景走过（图上以虚线标出）：" +
        body.untaken.map(function (f) { return (f.name || f.id) + "（" + f.source + " → " + f.target + "）"; }).join("、")
        : "每条顺序流都有场景走过。"), body.ok ? "ok" : "warn"));
    state.untaken.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "ds-untaken"); } });
    root.setAttribute("data-scenarios", body.ok ? "passed" : "failed");
  }

  function paragraph(text, kind) {
    var p = document.createElement("p");
    p.className = kind || "";
    p.textContent = text;
    return p;
  }

  $("save-draft").addEventListener("click", function () { save(false); });
  $("run-scenarios").addEventListener("click", function () {
    saved().then(function (ok) {
      if (!ok) { return; }
      status("正在用草稿运行场景测试…");
      $("scenario-results").textContent = "正在运行…";
      root.setAttribute("data-scenarios", "running");
      return request(data.scenariosUrl, {}).then(function (answer) {
        if (answer.status !== 200 || !answer.body) {
          status("场景测试无法运行（HTTP " + answer.status + "）", "error");
          root.setAttribute("data-scenarios", "error");
          return;
        }
        showScenarios(answer.body);
        status(answer.body.ok ? "场景测试全部通过" : "场景测试有失败或未覆盖的顺序流", answer.body.ok ? "ok" : "warn");
      });
    });
  });
  $("deploy-draft").addEventListener("click", function () {
    saved().then(function (ok) {
      if (!ok) { return; }
      if (!window.confirm("把草稿部署为新版本？新案件将按新版本办理，已在办的案件留在原版本。")) { return; }
      status("正在部署…");
      return request(data.deployUrl, {}).then(function (answer) {
        if (answer.status === 200 && answer.body) {
          status(answer.body.message, "ok");
          window.location.assign(answer.body.next);
          return;
        }
        if (answer.body && answer.body.error) {
          if (answer.body.error.problems) { showProblems(answer.body.error.problems); }
          status(answer.body.error.message, "error");
        } else {
          status("部署失败（HTTP " + answer.status + "）", "error");
        }
      });
    });
  });

  modeler.on("commandStack.changed", function (event) { if (event.trigger !== "clear") { changed(); } });
  window.addEventListener("beforeunload", function (event) {
    if (state.dirty) { event.preventDefault(); event.returnValue = ""; }
  });
  window.doorstepDesigner = { modeler: modeler, state: state, save: save, check: check };
  load();
}());
