"""The restricted environment in which diagram scripts, conditions and timer expressions run."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from types import CodeType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .clock import current_business_time
from .errors import ScriptRefused
from .messages import python_syntax
from .script_limits import OPERATIONS, SCRIPT_FILE, ScriptLimits, bounded, not_counted, sized_operation

# Names a script may never call, with the reason a designer is given.
FORBIDDEN_NAMES = {
    "open": "脚本不能打开文件",
    "__import__": "脚本不能导入模块",
    "exec": "脚本不能运行其他代码",
    "eval": "脚本不能运行其他代码",
    "compile": "脚本不能编译代码",
    "globals": "脚本不能访问解释器的全局变量",
    "locals": "脚本不能访问解释器的局部变量",
    "vars": "脚本不能访问解释器的变量",
    "getattr": "脚本不能按名称查找属性",
    "setattr": "脚本不能按名称设置属性",
    "delattr": "脚本不能按名称删除属性",
    "input": "脚本不能读取输入",
    "breakpoint": "脚本不能启动调试器",
}

EXTRA_BUILTINS: dict[str, Any] = {
    name: obj
    for name, obj in {
        "min": min, "max": max, "sum": sum, "any": any, "all": all, "sorted": sorted,
        "enumerate": enumerate, "dict": dict, "list": list, "set": set, "map": map, "filter": filter,
        "reversed": reversed,
    }.items()
}


class RestrictedSyntaxError(SyntaxError):
    """A script that RestrictedPython refuses to compile; carries the line for SpiffWorkflow's messages."""


def _refuse(name: str) -> Callable[..., Any]:
    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise ScriptRefused(f"不允许使用 {name}()：{FORBIDDEN_NAMES[name]}")

    return refused


def _inplace(sized: Callable[[str, Any, Any], Any], op: str, left: Any, right: Any) -> Any:
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": lambda a, b: sized("*", a, b),
        "/=": lambda a, b: a / b, "//=": lambda a, b: a // b, "%=": lambda a, b: a % b,
        "|=": lambda a, b: a | b, "&=": lambda a, b: a & b,
    }
    if op not in operations:
        raise ScriptRefused(f"the operator {op} is not allowed in scripts")
    return operations[op](left, right)


_BUILTINS: dict[str, Any] = {**safe_builtins, **EXTRA_BUILTINS, **{n: _refuse(n) for n in FORBIDDEN_NAMES}}
_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
}

_LINE = re.compile(r"Line (\d+):\s*(.*)")


_SIZED = {ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<"}
assert set(_SIZED.values()) == set(OPERATIONS)


class _SizedOperations(RestrictingNodeTransformer):
    """RestrictedPython's policy, with `*`, `**` and `<<` going through the size guard of engine/script_limits.py."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        symbol = _SIZED.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(func=ast.Name("_sized_op_", ast.Load()), args=[ast.Constant(symbol), node.left, node.right],
                        keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> CodeType:
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    # SpiffWorkflow finds the failing line of a script by the frame named '<string>' in the traceback.
    result = compiler(source, filename=SCRIPT_FILE, policy=_SizedOperations)
    if result.errors or result.code is None:
        lineno, message = _first_error(result.errors)
        error = RestrictedSyntaxError(message)
        error.lineno, error.offset, error.text = lineno, 0, _line(source, lineno)
        raise error
    return result.code


_UNDERSCORE = re.compile(r'"([^"]+)" is an invalid (?:attribute|variable) name because it starts with "_"')


def _first_error(errors: Sequence[str]) -> tuple[int, str]:
    for text in errors:
        match = _LINE.search(text)
        if match:
            underscore = _UNDERSCORE.search(match.group(2))
            if underscore:
                return int(match.group(1)), f'不允许使用以 "_" 开头的名称 "{underscore.group(1)}"（可能越出沙箱）'
            return int(match.group(1)), match.group(2)
    return 1, errors[0] if errors else "脚本无法编译"


def _line(source: str, lineno: int) -> str:
    lines = source.splitlines()
    return lines[lineno - 1] if 0 < lineno <= len(lines) else ""


def check_source(source: str, mode: str) -> list[tuple[int, str]]:
    """List (line, message) for everything wrong with a script (`exec`) or expression (`eval`)."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as error:
        return [(error.lineno or 1, f"语法错误：{python_syntax(error.msg)}")]
    problems: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 1)
        if isinstance(node, ast.Import | ast.ImportFrom):
            problems.append((line, "不允许 import：脚本不能导入模块"))
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            problems.append((line, f"不允许使用 {node.id}()：{FORBIDDEN_NAMES[node.id]}"))
    if problems:
        return problems
    try:
        _compile(source, mode)
    except RestrictedSyntaxError as error:
        return [(error.lineno or 1, f"不允许：{error.msg}")]
    return []


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates and executes diagram code with RestrictedPython and a registry of helper functions."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None, limits: ScriptLimits | None = None):
        self.limits = limits or ScriptLimits()
        self.guards = {**_GUARDS, "_sized_op_": sized_operation(self.limits),
                       "_inplacevar_": functools.partial(_inplace, sized_operation(self.limits))}
        builtin_helpers: dict[str, Callable[..., Any]] = {"now": lambda: current_business_time().isoformat()}
        recorded = {name: self._recording(name, helper) for name, helper in (helpers or {}).items()}
        super().__init__({**builtin_helpers, **recorded})
        # Helper results are inputs from outside the diagram (the org, the calendar): each step records them
        # so that a re-execution of the case can be given the same answers.
        self.calls: list[list[Any]] = []

    def _recording(self, name: str, helper: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            with not_counted():
                result = helper(*args)
            self.calls.append([name, list(args), result])
            return result

        return call

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        code = _compile(expression.strip(), "eval")
        with bounded(self.limits):
            return eval(code, self._namespace(context, external_context))  # noqa: S307 - restricted bytecode

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        code = _compile(script, "exec")
        self._refuse_shadowing(context)
        namespace = self._namespace(context, external_context)
        with bounded(self.limits):
            exec(code, namespace)  # noqa: S102 - restricted bytecode
        hidden = set(self.guards) | set(self.globals) | set(external_context or {})
        for name in list(context):
            if name not in namespace:
                del context[name]
        for name, value in namespace.items():
            if name not in hidden and not name.startswith("_") and not callable(value):
                context[name] = value
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ScriptRefused("service tasks are not supported; use a script task calling a helper")

    def _namespace(self, context: Mapping[str, Any], external_context: Any) -> dict[str, Any]:
        return {**context, **(external_context or {}), **self.globals, **self.guards}

    def _refuse_shadowing(self, context: Mapping[str, Any]) -> None:
        clash = sorted(set(self.globals) & set(context))
        if clash:
            raise ScriptRefused(f"case data uses the helper name(s) {', '.join(clash)}; rename the field(s)")


def restricted_script_engine(helpers: Mapping[str, Callable[..., Any]] | None = None,
                             limits: ScriptLimits | None = None) -> PythonScriptEngine:
    """A SpiffWorkflow script engine whose code runs in the restricted environment, within its time and memory."""
    return PythonScriptEngine(environment=RestrictedEnvironment(helpers, limits))


def playback_helpers(names: set[str], calls: list[list[Any]]) -> dict[str, Callable[..., Any]]:
    """Helpers that answer with recorded results, in the recorded order, refusing any other call."""
    queue = list(calls)

    def make(name: str) -> Callable[..., Any]:
        def answer(*args: Any) -> Any:
            if not queue:
                raise ScriptRefused(f"{name}{tuple(args)} was not called when the case ran")
            recorded_name, recorded_args, result = queue.pop(0)
            if recorded_name != name or list(args) != recorded_args:
                raise ScriptRefused(f"{name}{tuple(args)} was called where the case ran "
                                    f"{recorded_name}{tuple(recorded_args)}")
            return result

        return answer

    return {name: make(name) for name in names | {c[0] for c in calls}}
