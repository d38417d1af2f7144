"""Parser messages in Chinese for process designers: Python syntax errors (scripts, conditions, timers) and XML
and XSD errors (lxml's English), each turned into words a designer reads, keeping names and positions.

A message this module does not know keeps its meaning in general words ("语法不正确") rather than English.
"""

from __future__ import annotations

import re

_PYTHON = [  # (pattern over Python's message, Chinese)
    (r"^invalid syntax\. Perhaps you forgot a comma\?$", "语法不正确：可能漏了逗号"),
    (r"^invalid syntax\. Maybe you meant '==' or ':=' instead of '='\?$", "语法不正确：比较相等请用 ==，不是 ="),
    (r"^invalid syntax$", "语法不正确"),
    (r"^'(.)' was never closed$", "括号 {0} 没有闭合"),
    (r"^unmatched '(.)'$", "多了一个 {0}：没有与之对应的开括号"),
    (r"^closing parenthesis '(.)' does not match opening parenthesis '(.)'.*$", "右括号 {0} 与左括号 {1} 不匹配"),
    (r"^unterminated string literal.*$", "字符串缺少结束引号"),
    (r"^unterminated triple-quoted string literal.*$", "三引号字符串没有结束"),
    (r"^EOL while scanning string literal$", "字符串缺少结束引号"),
    (r"^unexpected EOF while parsing$", "代码不完整：在结尾处意外结束"),
    (r"^unexpected indent$", "缩进不正确：这一行不应缩进"),
    (r"^expected an indented block.*$", "缩进不正确：这里应有缩进的代码块"),
    (r"^unindent does not match any outer indentation level$", "缩进不正确：与上面各行的缩进对不齐"),
    (r"^expected ':'$", "缺少冒号 :"),
    (r"^cannot assign to (.+?)(?: here)?\..*$", "不能给 {0} 赋值"),
    (r"^cannot assign to (.+)$", "不能给 {0} 赋值"),
    (r"^invalid decimal literal$", "数字写法不正确（数字后面紧跟了字母？）"),
    (r"^invalid character '(.)' \(U\+([0-9A-F]+)\)$", "不允许的字符 {0}（可能是中文标点，请改用英文标点）"),
    (r"^invalid non-printable character.*$", "含有不可见的字符"),
    (r"^Missing parentheses in call to '(\w+)'.*$", "调用 {0} 缺少括号"),
    (r"^f-string: .*$", "f 字符串写法不正确"),
]
_XML = [
    (r"^Start tag expected, '<' not found$", "开头找不到 '<'：这不是 XML 文件"),
    (r"^Document is empty$", "文件是空的"),
    (r"^Opening and ending tag mismatch: (\S+) line (\d+) and (\S+)$",
     "开始标签 {0}（第 {1} 行）与结束标签 {2} 不匹配"),
    (r"^Premature end of data in tag (\S+) line (\d+)$", "文件在标签 {0}（第 {1} 行）里意外结束：缺少结束标签"),
    (r"^Extra content at the end of the document$", "根元素结束后还有多余的内容"),
    (r"^Couldn't find end of Start Tag (\S+).*$", "标签 {0} 没有正确结束（缺少 > 或引号）"),
    (r"^EntityRef: expecting ';'$", "实体引用缺少分号 ;（文字中的 & 请写成 &amp;）"),
    (r"^attributes construct error$", "属性写法不正确（缺少引号或等号？）"),
    (r"^Attribute (\S+) redefined$", "属性 {0} 重复出现"),
    (r"^Specification mandates value for attribute (\S+)$", "属性 {0} 没有值"),
    (r"^xmlParseEntityRef: no name$", "文字中的 & 请写成 &amp;"),
    (r"^StartTag: invalid element name$", "元素名称不正确"),
    (r"^Namespace prefix (\S+) on (\S+) is not defined$", "元素 {1} 的命名空间前缀 {0} 没有声明"),
    (r"^Unescaped '<' not allowed in attributes values$", "属性值中的 < 请写成 &lt;"),
    (r"^Element '([^']+)': This element is not expected\. Expected is(?: one of)? \( (.+) \)\.?$",
     "元素 {0} 不应出现在这里；此处应为 {1}"),
    (r"^Element '([^']+)': This element is not expected\.?$", "元素 {0} 不应出现在这里"),
    (r"^Element '([^']+)', attribute '([^']+)': The attribute '[^']+' is not allowed\.?$", "元素 {0} 不允许有属性 {1}"),
    (r"^Element '([^']+)': The attribute '([^']+)' is required but missing\.?$", "元素 {0} 缺少必需的属性 {1}"),
    (r"^Element '([^']+)', attribute '([^']+)': '([^']*)' is not a valid value of the atomic type '([^']+)'\.?$",
     "元素 {0} 的属性 {1} 的值 '{2}' 不合规定（应为 {3} 类型）"),
    (r"^Element '([^']+)': Missing child element\(s\)\. Expected is(?: one of)? \( (.+) \)\.?$",
     "元素 {0} 缺少子元素；应有 {1}"),
    (r"^Element '([^']+)': No match found for key-sequence \['([^']+)'\].*$", "元素 {0} 引用的 '{1}' 不存在"),
    (r"^Element '([^']+)': Duplicate key-sequence \['([^']+)'\].*$", "元素 {0} 的 id '{1}' 重复"),
    (r"^Element '([^']+)': '([^']*)' is not a valid value of the atomic type '([^']+)'\.?$",
     "元素 {0} 的值 '{1}' 不合规定（应为 {2} 类型）"),
]
_POSITION = re.compile(r",? line (\d+), column (\d+)$")


def _translate(message: str, table: list[tuple[str, str]], fallback: str) -> str:
    for pattern, chinese in table:
        found = re.match(pattern, message.strip())
        if found:
            return chinese.format(*found.groups())
    return fallback


def python_syntax(message: str) -> str:
    """Python's syntax error message in Chinese."""
    return _translate(message, _PYTHON, "语法不正确")


def xml_syntax(message: str) -> str:
    """lxml's message for a file that is not well-formed XML, in Chinese, with its position as 第 n 行第 m 列."""
    position = _POSITION.search(message)
    text = _translate(_POSITION.sub("", message), _XML, "XML 格式不正确")
    return f"{text}（第 {position.group(1)} 行第 {position.group(2)} 列）" if position else text


def schema_error(message: str) -> str:
    """An XSD validation message (namespaces already removed) in Chinese."""
    return _translate(message, _XML, "结构不符合规范")
