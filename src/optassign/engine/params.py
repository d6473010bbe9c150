"""CP-SAT parameters given as text (`linearization_level=2`, `use_lns_only=true`), checked
against OR-Tools' own parameter schema before any solve starts.

The engine passes extra keyword arguments of `solve_problem` straight to CP-SAT; the command
line takes them as repeatable `--param key=value`. Both go through `check_params`, so a
misspelt name or a value of the wrong type is one clear message instead of a protobuf error
in the middle of a solve."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from google.protobuf.descriptor import FieldDescriptor
from ortools.sat import sat_parameters_pb2

_FIELDS = sat_parameters_pb2.SatParameters.DESCRIPTOR.fields_by_name
_INTEGER_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
}
_FLOAT_TYPES = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
# CP-SAT gets DTIME_PER_SECOND units of deterministic work per second of its time: when that
# budget ends the search, the same inputs, seed and workers give the same plan. The wall clock
# stays a hard limit; on large instances (or a loaded machine) it may end the search first,
# and the summary statistics say so, as such a run may not be reproducible.
DTIME_PER_SECOND = 0.25
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ParamError(ValueError):
    """A CP-SAT parameter that does not exist or whose value does not fit its type."""


def _field(name: str) -> FieldDescriptor:
    field = _FIELDS.get(name)
    if field is None:
        close = difflib.get_close_matches(name, list(_FIELDS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ParamError(f"{name!r} is not a CP-SAT parameter{hint}")
    return field


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf >= 5 has is_repeated; older releases only the label
    repeated = getattr(field, "is_repeated", None)
    return bool(repeated) if repeated is not None else field.label == FieldDescriptor.LABEL_REPEATED


def _scalar(field: FieldDescriptor, value: object) -> object:
    """`value` (text or a Python value) as the field's type, or ParamError."""
    name = field.name
    text = value.strip() if isinstance(value, str) else value
    if field.type == FieldDescriptor.TYPE_BOOL:
        if isinstance(text, bool):
            return text
        if isinstance(text, str) and text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ParamError(f"{name}: value {value!r} is not true or false")
    if field.type in _INTEGER_TYPES:
        if isinstance(text, bool):
            raise ParamError(f"{name}: value {value!r} is not a whole number")
        if isinstance(text, int):
            return text
        try:
            return int(str(text), 10)
        except ValueError:
            raise ParamError(f"{name}: value {value!r} is not a whole number") from None
    if field.type in _FLOAT_TYPES:
        if isinstance(text, bool):
            raise ParamError(f"{name}: value {value!r} is not a number")
        try:
            return float(text)
        except (TypeError, ValueError):
            raise ParamError(f"{name}: value {value!r} is not a number") from None
    if field.type == FieldDescriptor.TYPE_ENUM:
        values = field.enum_type.values_by_name
        if isinstance(text, str) and text.lstrip("-").isdigit():
            text = int(text)
        if isinstance(text, int) and not isinstance(text, bool):
            if text in field.enum_type.values_by_number:
                return text
        elif isinstance(text, str) and text.upper() in values:
            return values[text.upper()].number
        raise ParamError(f"{name}: value {value!r} is not one of {', '.join(values)}")
    if field.type == FieldDescriptor.TYPE_STRING:
        return str(text)
    raise ParamError(f"{name}: parameters of this kind cannot be set here")


def check_params(params: Mapping[str, object]) -> dict[str, object]:
    """The parameters with each value converted to its field's type (enums by name or number,
    repeated fields from a list or comma-separated text). Raises ParamError on the first
    unknown name or unfit value."""
    out: dict[str, object] = {}
    for name, value in params.items():
        field = _field(name)
        if _is_repeated(field):
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple):
                raise ParamError(f"{name}: expected a list of values, got {value!r}")
            out[name] = [_scalar(field, v) for v in items if not (isinstance(v, str) and not v.strip())]
        else:
            out[name] = _scalar(field, value)
    return out


def parse_params(pairs: Iterable[str]) -> dict[str, object]:
    """`key=value` texts as checked parameters; a later key replaces an earlier one."""
    raw: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"expected key=value, got {pair!r}")
        raw[key.strip()] = value
    return check_params(raw)


def apply_params(target: object, params: Mapping[str, object]) -> None:
    """Set checked parameters on CP-SAT's parameters (`CpSolver().parameters`: a protobuf
    message or, in newer OR-Tools, its native wrapper). Repeated fields are replaced."""
    for name, value in params.items():
        current = getattr(target, name)
        if isinstance(value, list):
            if hasattr(current, "clear"):
                current.clear()
            else:
                del current[:]
            current.extend(value)
        elif _FIELDS[name].type == FieldDescriptor.TYPE_ENUM and not isinstance(current, int):
            setattr(target, name, type(current)(value))  # the wrapper's own enum type
        else:
            setattr(target, name, value)
