"""Refuse markup in a diagram that a browser could execute: script elements, event handlers, script URLs.

BPMN lets any namespace into documentation and extension elements. A diagram is XML that staff browsers open
(through bpmn-js, or as a file), so a deployed diagram must carry nothing that runs: no `<script>` in any
namespace (XHTML, SVG), no embedding elements, no `on…` event-handler attribute, no `javascript:` style URL,
no `<?xml-stylesheet?>` instruction (an XSLT can carry script).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from .errors import Problem

_EXECUTABLE_ELEMENTS = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet", "handler",
                                  "foreignobject", "meta", "base", "link", "style", "form"})
# Where browsers run those elements; elements without a namespace could be pasted into a page as HTML.
_BROWSER_NAMESPACES = frozenset({None, "http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg",
                                 "http://www.w3.org/1998/Math/MathML", "http://www.w3.org/2001/xml-events"})
_HANDLER = re.compile(r"^on[a-z]+$", re.IGNORECASE)
# Browsers ignore control characters and white space inside a scheme ("java\tscript:"), so these are stripped first.
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20]+")
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:", "data:text/html", "data:application/xhtml")
# Attributes a browser follows or loads as a URL (SVG animation attributes can set an href to one).
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "data", "background", "poster", "srcset",
                             "codebase", "code", "lowsrc", "dynsrc", "to", "from", "values", "by", "ping"})
# The namespaces of BPMN itself: their attributes are data, never handlers.
_OMG = "http://www.omg.org/spec/"


def active_markup(file_name: str, root: Any) -> list[Problem]:
    """Every place in the parsed diagram `root` that could execute in a browser, as designer-facing problems."""
    problems: list[Problem] = []
    outside = [*root.itersiblings(preceding=True), *root.itersiblings()]  # instructions before or after the root
    for node in [*outside, *root.iter()]:
        if isinstance(node, etree._ProcessingInstruction):
            if node.target.lower() == "xml-stylesheet":
                problems.append(Problem(file_name, node.sourceline, None,
                                        "文件含有 <?xml-stylesheet?> 指令：样式表可以执行脚本，请删除该指令"))
            continue
        if not isinstance(node.tag, str):
            continue  # comments and entities carry no markup
        qname = etree.QName(node)
        element = _element_name(node, qname)
        if qname.localname.lower() in _EXECUTABLE_ELEMENTS and qname.namespace in _BROWSER_NAMESPACES:
            problems.append(Problem(file_name, node.sourceline, element,
                                    f"第 {node.sourceline} 行的 <{element}> 元素可在浏览器中执行脚本或加载外部内容，"
                                    "流程图中不允许出现；请从说明（documentation）或扩展元素中删除它"))
        for attribute, value in node.attrib.items():
            problems.extend(_attribute_problems(file_name, node, element, qname, attribute, value))
    return problems


def _attribute_problems(file_name: str, node: Any, element: str, qname: Any, attribute: str,
                        value: str) -> list[Problem]:
    name = etree.QName(attribute).localname
    foreign = not (qname.namespace or "").startswith(_OMG)
    found: list[Problem] = []
    if foreign and _HANDLER.match(name):
        found.append(Problem(file_name, node.sourceline, element,
                             f"第 {node.sourceline} 行 <{element}> 的属性 {name} 是浏览器事件处理脚本，"
                             "流程图中不允许出现；请删除该属性"))
    scheme = _IGNORED_IN_SCHEME.sub("", value).lower()
    if name.lower() in _URL_ATTRIBUTES and scheme.startswith(_SCRIPT_SCHEMES):
        found.append(Problem(file_name, node.sourceline, element,
                             f"第 {node.sourceline} 行 <{element}> 的属性 {name} 是可执行的链接"
                             f"（{scheme.split(':', 1)[0]}:），流程图中不允许出现；请改为普通网址或删除"))
    return found


def _element_name(node: Any, qname: Any) -> str:
    """The element as a designer sees it in the file: its prefix and name, and its id when it has one."""
    prefix = node.prefix
    name = f"{prefix}:{qname.localname}" if prefix else qname.localname
    return f"{name} id=\"{node.get('id')}\"" if node.get("id") else name
