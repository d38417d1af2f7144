// The designer's property panel: edits the properties Doorstep runs on, through bpmn-js's own commands
// (modeling.updateProperties / updateModdleProperties), so undo, redo and the XML export all see them.
// Element name, lane name, the user task's form (spiffworkflow property formJsonSchemaFilename) and its JSON
// Schema, conditions and default flows, timer expressions, scripts, called processes.
(function () {
  "use strict";

  var FORM_PROPERTY = "formJsonSchemaFilename";
  var TIMER_KINDS = [["timeDate", "日期（timeDate）"], ["timeDuration", "时长（timeDuration）"],
    ["timeCycle", "周期（timeCycle）"]];
  var TYPE_NAMES = {
    "bpmn:UserTask": "人工任务", "bpmn:ScriptTask": "脚本任务", "bpmn:Task": "任务", "bpmn:ServiceTask": "服务任务",
    "bpmn:CallActivity": "调用流程", "bpmn:SubProcess": "子流程", "bpmn:StartEvent": "开始事件",
    "bpmn:EndEvent": "结束事件", "bpmn:IntermediateCatchEvent": "中间事件", "bpmn:BoundaryEvent": "边界事件",
    "bpmn:IntermediateThrowEvent": "中间抛出事件", "bpmn:ExclusiveGateway": "排他网关",
    "bpmn:InclusiveGateway": "包容网关", "bpmn:ParallelGateway": "并行网关", "bpmn:EventBasedGateway": "事件网关",
    "bpmn:SequenceFlow": "顺序流", "bpmn:Lane": "泳道", "bpmn:Participant": "池", "bpmn:Process": "流程"
  };

  // The moddle descriptor of SpiffWorkflow's extension elements, so bpmn-js reads and writes them as types.
  var SPIFF_MODDLE = {
    name: "SpiffWorkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core", prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" }, associations: [],
    types: [
      { name: "Properties", superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"],
        properties: [{ name: "name", isAttr: true, type: "String" }, { name: "value", isAttr: true, type: "String" }] },
      { name: "InstructionsForEndUser", superClass: ["Element"],
        properties: [{ name: "value", isBody: true, type: "String" }] },
      { name: "PreScript", superClass: ["Element"], properties: [{ name: "value", isBody: true, type: "String" }] },
      { name: "PostScript", superClass: ["Element"], properties: [{ name: "value", isBody: true, type: "String" }] },
      { name: "CalledDecisionId", superClass: ["Element"],
        properties: [{ name: "value", isBody: true, type: "String" }] }
    ]
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else if (key === "value") { node.value = attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function field(label, id, input, hint) {
    input.id = id;
    return el("div", { "class": "field" }, [el("label", { "for": id, text: label }), input,
      hint ? el("div", { "class": "hint", text: hint }) : null]);
  }

  function onCommit(input, apply) {
    input.addEventListener("change", function () { apply(input.value); });
  }

  function Panel(modeler, container, options) {
    this.modeler = modeler;
    this.container = container;
    this.options = options; // {roles: [...], forms: () => {name: text}, setForm(name, text), knownForms: () => []}
    this.element = null;
    this.modeling = modeler.get("modeling");
    this.moddle = modeler.get("moddle");
    this.registry = modeler.get("elementRegistry");
    var self = this;
    modeler.on("selection.changed", function (event) {
      self.show(event.newSelection.length === 1 ? event.newSelection[0] : null);
    });
    modeler.on("elements.changed", function (event) {
      if (!self.element || container.contains(document.activeElement)) { return; }
      if (event.elements.some(function (e) { return e === self.element || e.id === self.element.id; })) {
        self.show(self.registry.get(self.element.id) || null);
      }
    });
  }

  Panel.prototype.show = function (element) {
    this.element = element && element.type !== "label" ? element : (element && element.labelTarget) || null;
    var box = this.container;
    box.textContent = "";
    if (!this.element) {
      box.appendChild(el("p", { "class": "muted", text: "选中一个环节、连线或泳道，在这里编辑它的属性。" }));
      return;
    }
    var e = this.element, bo = e.businessObject;
    box.setAttribute("data-element", e.id);
    box.appendChild(el("h2", { text: (TYPE_NAMES[e.type] || e.type) }));
    box.appendChild(el("p", { "class": "muted" }, [el("code", { text: bo.id })]));
    var problems = this.options.problemsOf(e.id);
    if (problems.length) {
      box.appendChild(el("ul", { "class": "panel-problems", role: "alert" }, problems.map(function (p) {
        return el("li", { text: p.message });
      })));
    }
    if (e.type !== "bpmn:Process") { box.appendChild(this.nameField(e, bo)); }
    if (e.type === "bpmn:UserTask") { this.formFields(e, bo).forEach(box.appendChild, box); }
    if (e.type === "bpmn:ScriptTask") { box.appendChild(this.scriptField(e, bo)); }
    if (e.type === "bpmn:CallActivity") { box.appendChild(this.calledField(e, bo)); }
    if (e.type === "bpmn:SequenceFlow") { this.flowFields(e, bo).forEach(box.appendChild, box); }
    if (e.type === "bpmn:ExclusiveGateway" || e.type === "bpmn:InclusiveGateway") {
      box.appendChild(this.defaultField(e, bo));
    }
    var timer = (bo.eventDefinitions || []).filter(function (d) { return d.$type === "bpmn:TimerEventDefinition"; })[0];
    if (timer) { this.timerFields(e, timer).forEach(box.appendChild, box); }
  };

  Panel.prototype.nameField = function (e, bo) {
    var modeling = this.modeling;
    var input = el("input", { type: "text", value: bo.name || "" });
    var hint = null;
    if (e.type === "bpmn:Lane") {
      var list = el("datalist", { id: "lane-roles" }, this.options.roles.map(function (r) {
        return el("option", { value: r });
      }));
      input.setAttribute("list", "lane-roles");
      hint = "泳道名必须是角色名（如 坐班村支书、乡镇信访干部）；把环节拖进泳道即归属该角色。";
      onCommit(input, function (value) { modeling.updateProperties(e, { name: value }); });
      var wrap = field("泳道名（角色）", "prop-name", input, hint);
      wrap.appendChild(list);
      return wrap;
    }
    onCommit(input, function (value) { modeling.updateProperties(e, { name: value || undefined }); });
    return field("名称", "prop-name", input, e.type === "bpmn:SequenceFlow" ? "排他网关的每条分支都要写明情形" : null);
  };

  Panel.prototype.scriptField = function (e, bo) {
    var modeling = this.modeling;
    var input = el("textarea", { rows: "6", "class": "code", value: bo.script || "" });
    onCommit(input, function (value) {
      modeling.updateProperties(e, { script: value, scriptFormat: bo.scriptFormat || "python" });
    });
    return field("脚本（Python，受限：不能 import、不能打开文件、不能用 _ 开头的名称）", "prop-script", input);
  };

  Panel.prototype.calledField = function (e, bo) {
    var modeling = this.modeling;
    var input = el("input", { type: "text", value: bo.calledElement || "" });
    onCommit(input, function (value) { modeling.updateProperties(e, { calledElement: value }); });
    return field("调用的流程（流程 id）", "prop-called", input);
  };

  Panel.prototype.flowFields = function (e, bo) {
    var modeling = this.modeling, moddle = this.moddle;
    var source = e.source, kind = source && source.type;
    if (kind !== "bpmn:ExclusiveGateway" && kind !== "bpmn:InclusiveGateway") { return []; }
    var gateway = source.businessObject;
    var isDefault = gateway["default"] === bo;
    var condition = el("textarea", { rows: "3", "class": "code",
      value: bo.conditionExpression ? (bo.conditionExpression.body || "") : "" });
    if (isDefault) { condition.setAttribute("disabled", "disabled"); }
    onCommit(condition, function (value) {
      var text = value.trim();
      modeling.updateProperties(e, {
        conditionExpression: text ? moddle.create("bpmn:FormalExpression", { body: text }) : undefined
      });
    });
    var check = el("input", { type: "checkbox" });
    check.checked = isDefault;
    check.addEventListener("change", function () {
      if (check.checked) {
        modeling.updateProperties(e, { conditionExpression: undefined });
        modeling.updateProperties(source, { "default": bo });
      } else {
        modeling.updateProperties(source, { "default": undefined });
      }
    });
    var defaultBox = el("div", { "class": "field" }, [el("label", {}, [check, document.createTextNode(" 默认流（其他条件都不成立时走这条）")])]);
    check.id = "prop-default-flow";
    return [field("条件（Python 表达式，如 disposition == \"answer\"）", "prop-condition", condition,
      "排他网关按图中顺序判断条件，条件之间不能重叠。"), defaultBox];
  };

  Panel.prototype.defaultField = function (e, bo) {
    var modeling = this.modeling, registry = this.registry;
    var select = el("select", {}, [el("option", { value: "", text: "（无默认流）" })].concat(
      (bo.outgoing || []).map(function (flow) {
        return el("option", { value: flow.id, text: (flow.name || "") + " [" + flow.id + "]" });
      })));
    select.value = bo["default"] ? bo["default"].id : "";
    select.addEventListener("change", function () {
      var flow = select.value ? registry.get(select.value) : null;
      if (flow) { modeling.updateProperties(flow, { conditionExpression: undefined }); }
      modeling.updateProperties(e, { "default": flow ? flow.businessObject : undefined });
    });
    return field("默认流", "prop-default", select, "所有条件都不成立时走默认流；默认流不写条件。");
  };

  Panel.prototype.timerFields = function (e, timer) {
    var modeling = this.modeling, moddle = this.moddle;
    var current = TIMER_KINDS.filter(function (k) { return timer[k[0]]; })[0];
    var kind = el("select", {}, TIMER_KINDS.map(function (k) { return el("option", { value: k[0], text: k[1] }); }));
    kind.value = current ? current[0] : "timeDuration";
    var expression = el("input", { type: "text", "class": "code",
      value: current ? (timer[current[0]].body || "") : "" });
    function apply() {
      var props = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
      var text = expression.value.trim();
      if (text) { props[kind.value] = moddle.create("bpmn:FormalExpression", { body: text }); }
      modeling.updateModdleProperties(e, timer, props);
    }
    kind.addEventListener("change", apply);
    expression.addEventListener("change", apply);
    return [field("定时器类型", "prop-timer-kind", kind),
      field("定时器表达式（Python：时长要加引号，如 \"P15D\"；日期可写 end_of_workday(registered_at)）",
        "prop-timer", expression)];
  };

  Panel.prototype.formFields = function (e, bo) {
    var self = this;
    var name = formOf(bo);
    var input = el("input", { type: "text", value: name, list: "known-forms" });
    var known = el("datalist", { id: "known-forms" }, this.options.knownForms().map(function (f) {
      return el("option", { value: f });
    }));
    onCommit(input, function (value) { self.setFormProperty(e, value.trim()); self.show(e); });
    var fields = [field("表单文件（formJsonSchemaFilename）", "prop-form", input), known];
    if (!name) { return fields; }
    var schema = this.options.forms()[name];
    var area = el("textarea", { rows: "14", "class": "code", id: "form-schema", value: schema || "" });
    var state = el("div", { "class": "hint", id: "form-schema-state" });
    function judge() {
      try {
        var parsed = JSON.parse(area.value);
        state.textContent = parsed && parsed.type === "object" ? "JSON 格式正确" : "表单必须是 \"type\": \"object\" 的 JSON Schema";
        state.className = parsed && parsed.type === "object" ? "hint" : "error";
      } catch (error) {
        state.textContent = "JSON 格式有误：" + error.message;
        state.className = "error";
      }
    }
    area.addEventListener("input", function () { self.options.setForm(name, area.value); judge(); });
    if (schema === undefined) {
      var create = el("button", { type: "button", "class": "secondary small", text: "新建此表单" });
      create.addEventListener("click", function () {
        var skeleton = { type: "object", title: bo.name || name, properties: {}, required: [] };
        self.options.setForm(name, JSON.stringify(skeleton, null, 2) + "\n");
        self.show(e);
      });
      fields.push(el("p", { "class": "error", text: "表单文件 " + name + " 还不存在。" }, []), create);
      return fields;
    }
    judge();
    fields.push(field("表单 " + name + " 的 JSON Schema", "form-schema", area), state);
    return fields;
  };

  Panel.prototype.setFormProperty = function (e, value) {
    var modeling = this.modeling, moddle = this.moddle, bo = e.businessObject;
    var ext = bo.extensionElements;
    if (!ext) {
      ext = moddle.create("bpmn:ExtensionElements", { values: [] });
      modeling.updateProperties(e, { extensionElements: ext });
    }
    var props = (ext.values || []).filter(function (v) { return v.$type === "spiffworkflow:Properties"; })[0];
    if (!props) {
      props = moddle.create("spiffworkflow:Properties", { properties: [] });
      modeling.updateModdleProperties(e, ext, { values: (ext.values || []).concat([props]) });
    }
    var prop = (props.properties || []).filter(function (p) { return p.name === FORM_PROPERTY; })[0];
    if (!value) {
      if (prop) {
        modeling.updateModdleProperties(e, props, { properties: props.properties.filter(function (p) { return p !== prop; }) });
      }
      return;
    }
    if (prop) {
      modeling.updateModdleProperties(e, prop, { value: value });
    } else {
      prop = moddle.create("spiffworkflow:Property", { name: FORM_PROPERTY, value: value });
      modeling.updateModdleProperties(e, props, { properties: (props.properties || []).concat([prop]) });
    }
  };

  function formOf(bo) {
    var values = (bo.extensionElements && bo.extensionElements.values) || [];
    for (var i = 0; i < values.length; i++) {
      var props = values[i].properties || [];
      for (var j = 0; j < props.length; j++) {
        if (props[j].name === FORM_PROPERTY) { return props[j].value || ""; }
      }
    }
    return "";
  }

  window.DoorstepPanel = { Panel: Panel, SPIFF_MODDLE: SPIFF_MODDLE, formOf: formOf };
}());
