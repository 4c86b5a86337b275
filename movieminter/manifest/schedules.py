"""Deforum keyframe schedules: parse, check and evaluate them like Deforum does.

A schedule is `FRAME: (EXPRESSION), FRAME: (EXPRESSION), ...`, e.g.
`0: (1.0), 30: (1.02)` or `0: (1.0025+0.002*sin(1.25*3.14*t/30))`.

Deforum (scripts/deforum_helpers/animation_key_frames.py, FrameInterpolater)
splits the text on `,` and then on `:`, so an expression can contain neither.
Expressions are evaluated with numexpr with these names in scope:
  t      the frame number inside the job (0 .. frame_count-1)
  max_f  frame_count - 1 (Deforum: `max_f = self.max_frames - 1`)
  s      the job's seed
We check every name against an allowlist before numexpr sees the text, so a
manifest can never reach anything but arithmetic.

Deforum's in-between semantics, which evaluate_schedule reproduces:
  * a keyframe whose value is a plain number is set at its frame, and frames
    between two numeric keyframes are linearly interpolated;
  * a keyframe whose value is an expression is evaluated at EVERY frame from
    its own frame up to (not including) the next keyframe, with t = frame;
  * frames before the first keyframe take its value, frames after the last
    numeric keyframe keep the last value.
"""

from __future__ import annotations

import ast
import functools
import re
from typing import Any

import numexpr
import numpy as np
import numpy.typing as npt

VARIABLES = frozenset({"t", "max_f", "s"})
# Functions every numexpr that A1111 venvs carry (>= 2.8) knows. numexpr has
# no constants, so `pi` is not available inside Deforum either.
FUNCTIONS = frozenset(
    {
        "sin",
        "cos",
        "tan",
        "arcsin",
        "arccos",
        "arctan",
        "arctan2",
        "sinh",
        "cosh",
        "tanh",
        "arcsinh",
        "arccosh",
        "arctanh",
        "log",
        "log10",
        "log1p",
        "exp",
        "expm1",
        "sqrt",
        "abs",
        "where",
        "floor",
        "ceil",
    }
)
_FUNCTION_ARITY = {"arctan2": 2, "where": 3}
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.Pow, ast.BitAnd, ast.BitOr)
_UNARY = (ast.UAdd, ast.USub, ast.Invert)
_COMPARE = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_NUMBER = re.compile(r"^[+-]?([0-9]*)(\.[0-9]+)?$")  # Deforum's check_is_number
_FRAME = re.compile(r"^\s*([0-9]+)\s*$")
MAX_EXPRESSION_LENGTH = 1000
MAX_SCHEDULE_LENGTH = 20_000
# numexpr folds constant sub-expressions with Python numbers before it vectorises:
# `9**9**9` becomes a Python big-integer power that holds the GIL for minutes. So
# constants must stay small, and so must every constant exponent.
MAX_CONSTANT = 1e15
MAX_EXPONENT = 64


class ScheduleError(ValueError):
    """A schedule or expression that Deforum would reject or misread. `hint` says how to fix it."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message = message
        self.hint = hint


def check_expression(expr: str) -> None:
    """Raise ScheduleError unless `expr` uses only numbers, t, max_f, s, arithmetic and allowed functions."""
    _accepted_expression(expr.strip())


# A feature film repeats expressions across segments, and validating a schedule parses and checks each one
# again when it evaluates it: remember the verdicts (only acceptances; refusals raise and are not cached).
@functools.lru_cache(maxsize=4096)
def _accepted_expression(text: str) -> bool:
    if not text:
        raise ScheduleError(
            "the expression is empty", "write a number or an expression such as `1.0` or `0.5*sin(t/10)`"
        )
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ScheduleError(
            f"the expression is {len(text)} characters long (at most {MAX_EXPRESSION_LENGTH})",
            "split the motion into several keyframes",
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ScheduleError(
            f"`{text}` is not a valid expression ({exc.msg})",
            "check the brackets and operators; e.g. `1.0 + 0.02*sin(t/10)`",
        ) from None
    _check_cost(tree, text)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if id(node) in called and isinstance(node, ast.Name):
            continue  # checked with its Call below
        if isinstance(node, (ast.Expression, ast.Load)) or isinstance(node, _BINOPS + _UNARY + _COMPARE):
            continue
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            if not isinstance(node.op, _BINOPS + _UNARY):
                raise ScheduleError(
                    f"operator `{ast.unparse(node)}` is not allowed in `{text}`",
                    "use + - * / % ** and comparisons inside where()",
                )
            continue
        if isinstance(node, ast.Compare):
            continue
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ScheduleError(
                    f"`{ast.unparse(node)}` in `{text}` is not a number",
                    "expressions may only contain numbers, t, max_f, s and math functions",
                )
            continue
        if isinstance(node, ast.Name):
            _check_name(node, text)
            continue
        if isinstance(node, ast.Call):
            _check_call(node, text)
            continue
        raise ScheduleError(
            f"`{ast.unparse(node)}` is not allowed in `{text}`",
            "expressions may only contain numbers, t, max_f, s, arithmetic and math functions",
        )
    return True


def _check_name(node: ast.Name, text: str) -> None:
    """A name used as a value: only t, max_f and s."""
    if node.id in VARIABLES:
        return
    if node.id == "pi":
        raise ScheduleError(
            f"`pi` is not defined when Deforum evaluates `{text}`",
            "write the number instead, e.g. 3.14159 (numexpr has no constants)",
        )
    if node.id in FUNCTIONS:
        raise ScheduleError(
            f"`{node.id}` is a function but is used as a value in `{text}`", f"call it, e.g. `{node.id}(t)`"
        )
    raise ScheduleError(
        f"unknown name `{node.id}` in `{text}`", "only t (frame), max_f (last frame) and s (seed) are available"
    )


def _check_call(node: ast.Call, text: str) -> None:
    """A call of an allowed function, by position, with its number of arguments."""
    func = node.func
    if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
        name = ast.unparse(func)
        raise ScheduleError(
            f"function `{name}` is not allowed in `{text}`",
            "allowed functions: " + ", ".join(sorted(FUNCTIONS)),
        )
    if node.keywords:
        raise ScheduleError(f"`{func.id}()` takes no keyword arguments in `{text}`", "pass arguments by position")
    want = _FUNCTION_ARITY.get(func.id, 1)
    if len(node.args) != want:
        raise ScheduleError(
            f"`{func.id}()` takes {want} argument{'s' if want > 1 else ''}, got {len(node.args)} in `{text}`",
            f"e.g. `{func.id}(" + ", ".join(["t"] * want) + ")`",
        )


def _constant_value(node: ast.AST) -> float | None:
    """The value of a sub-expression made only of numbers, computed in floats
    (never as Python integers); None if it involves t, max_f, s or a function."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        v = _constant_value(node.operand)
        return None if v is None else (v if isinstance(node.op, ast.UAdd) else -v)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
        a, b = _constant_value(node.left), _constant_value(node.right)
        if a is None or b is None:
            return None
        try:
            if isinstance(node.op, ast.Pow):
                return float(abs(a) ** b) if abs(b) <= MAX_EXPONENT else float("inf")
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b, ast.Div: a / b if b else float("inf")}[
                type(node.op)
            ]
        except (OverflowError, ZeroDivisionError):
            return float("inf")
    return None


def _check_cost(tree: ast.AST, text: str) -> None:
    """Bound what numexpr does with constants before it vectorises (see MAX_CONSTANT)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponent = _constant_value(node.right)
            if exponent is not None and not abs(exponent) <= MAX_EXPONENT:
                raise ScheduleError(
                    f"exponent `{ast.unparse(node.right)}` in `{text}` is beyond ±{MAX_EXPONENT}", "use a smaller power"
                )
        value = _constant_value(node)
        if value is not None and not abs(value) <= MAX_CONSTANT:
            raise ScheduleError(
                f"`{ast.unparse(node)}` in `{text}` is too large (numbers and constant "
                f"results must stay within ±{MAX_CONSTANT:g})",
                "Deforum schedules are camera values: use numbers of a sensible size",
            )


def _strip_value(value: str) -> str:
    return value.replace("'", "").replace('"', "").replace("(", "").replace(")", "")


def is_number(value: str) -> bool:
    """Deforum's test for a constant keyframe value (after removing quotes and brackets)."""
    text = _strip_value(value).strip()
    return bool(text) and bool(_NUMBER.match(text))


def parse_schedule(text: str) -> list[tuple[int, str]]:
    """`"0: (1.0), 30: (1.02)"` -> [(0, "(1.0)"), (30, "(1.02)")], sorted by frame.

    Raises ScheduleError for anything Deforum would reject or silently misread:
    missing `:`, a `:` or `,` inside an expression, non-integer frames,
    duplicate frames, names outside the allowlist, unbalanced brackets.
    """
    if not isinstance(text, str) or not text.strip():
        raise ScheduleError("the schedule is empty", "write at least `0: (value)`")
    return list(_parsed_schedule(text))


@functools.lru_cache(maxsize=1024)  # validation parses each schedule twice (check, then evaluate)
def _parsed_schedule(text: str) -> tuple[tuple[int, str], ...]:
    if len(text) > MAX_SCHEDULE_LENGTH:
        raise ScheduleError(
            f"the schedule is {len(text)} characters long (at most {MAX_SCHEDULE_LENGTH})",
            "use fewer keyframes; frames between keyframes are interpolated",
        )
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth > 0:
            raise ScheduleError(
                f"a `,` inside brackets in `{text.strip()}`",
                "Deforum splits schedules on every comma, so where() and arctan2() cannot be used "
                "in schedules; use separate keyframes instead",
            )
    frames: dict[int, str] = {}
    for part in text.split(","):
        if not part.strip():
            raise ScheduleError(
                f"empty entry in `{text}` (two commas in a row or a trailing comma)",
                "separate keyframes with single commas: `0: (1.0), 30: (1.02)`",
            )
        if ":" not in part:
            if part.count("(") != part.count(")"):  # a comma inside a function call was split off
                hint = "Deforum splits schedules on commas, so where() and arctan2() cannot be used in schedules"
            else:
                hint = "each keyframe is `FRAME: (VALUE)`, e.g. `0: (1.0)`"
            raise ScheduleError(f"`{part.strip()}` has no `FRAME:` in front", hint)
        pieces = part.split(":")
        if len(pieces) != 2:
            raise ScheduleError(
                f"`{part.strip()}` has more than one `:`",
                "Deforum reads only up to the second `:`; write one `FRAME: (VALUE)` per keyframe",
            )
        frame_text, value = pieces[0], pieces[1].strip()
        m = _FRAME.match(frame_text)
        if not m:
            raise ScheduleError(
                f"frame `{frame_text.strip()}` is not a whole number",
                "keyframes are whole frame numbers counted from the segment start, e.g. `0`, `24`",
            )
        frame = int(m.group(1))
        if frame in frames:
            raise ScheduleError(f"frame {frame} appears twice", "keep one value per frame")
        if value.count("(") != value.count(")"):
            raise ScheduleError(f"unbalanced brackets in `{value}`", "every `(` needs a `)`")
        if not is_number(value):
            check_expression(value)
        elif not _strip_value(value).strip():
            raise ScheduleError(f"frame {frame} has no value", "write `FRAME: (VALUE)`")
        frames[frame] = value
    return tuple(sorted(frames.items()))


def evaluate_expression(expr: str, frames: npt.NDArray[Any], *, max_f: int, s: int) -> npt.NDArray[np.float64]:
    """Evaluate an allowlisted expression for many frames at once (float64 array)."""
    check_expression(expr)
    t = np.asarray(frames, dtype=np.int64)
    out = numexpr.evaluate(
        expr.strip(), local_dict={"t": t, "max_f": np.int64(max_f), "s": np.int64(s)}, global_dict={}
    )
    return np.broadcast_to(np.asarray(out, dtype=np.float64), t.shape).copy()


def evaluate_schedule(text: str, frame_count: int, *, seed: int = 0) -> list[float]:
    """One float per frame of a job of `frame_count` frames, as Deforum computes it.

    Keyframes at or beyond frame_count are ignored (Deforum never reaches them).
    """
    if frame_count < 1:
        raise ValueError("frame_count must be >= 1")
    keys = [(f, v) for f, v in parse_schedule(text) if f < frame_count]
    values = np.full(frame_count, np.nan)
    if not keys:
        raise ScheduleError(
            f"no keyframe of `{text}` falls inside {frame_count} frames", f"use frames 0..{frame_count - 1}"
        )
    assigned = np.zeros(frame_count, dtype=bool)
    max_f = frame_count - 1
    for i, (frame, value) in enumerate(keys):
        if is_number(value):
            values[frame] = float(_strip_value(value))
            assigned[frame] = True
        else:
            end = keys[i + 1][0] if i + 1 < len(keys) else frame_count
            with np.errstate(all="ignore"):
                values[frame:end] = evaluate_expression(value, np.arange(frame, end), max_f=max_f, s=seed)
            assigned[frame:end] = True
    known = np.flatnonzero(assigned)
    gaps = ~assigned
    # an expression that gives NaN/inf stays NaN/inf (validation reports it)
    values[gaps] = np.interp(np.flatnonzero(gaps), known, values[known])
    return [float(v) for v in values]
