"""Assignment policies: the objective's weights and switches, kept as YAML files in models/ and
validated by the `Policy` model of schema.py before any problem is built."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import ValidationError

from optassign.contract.io import pydantic_problems, read_yaml
from optassign.contract.schema import InputProblem, Policy, ScenarioError

__all__ = ["Policy", "load_policy", "policy_names", "models_dir", "is_policy_path"]

# A policy name is a file stem in models/ and nothing else: no separator, no dot, so a name can
# never reach outside models/ ("../x", "/etc/x" are paths, and must be given as such).
POLICY_NAME = re.compile(r"[A-Za-z0-9_-]+")


def models_dir() -> Path:
    """Where named policies live: $OPTASSIGN_MODELS, else the project's models/ folder, else the
    copy installed inside the package."""
    env = os.environ.get("OPTASSIGN_MODELS")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "models", here.parents[1] / "models"):
        if candidate.is_dir():
            return candidate
    return here.parents[3] / "models"


def policy_names(folder: Path | None = None) -> list[str]:
    folder = folder or models_dir()
    return sorted(p.stem for p in folder.glob("*.yaml") if POLICY_NAME.fullmatch(p.stem))


def is_policy_path(text: str | Path) -> bool:
    """A policy is given by path only when it says so: it holds a path separator or ends in
    .yaml/.yml. Anything else is a name looked up in models/."""
    text = str(text)
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(sep in text for sep in seps) or text.endswith((".yaml", ".yml"))


def load_policy(name_or_path: str | Path, folder: Path | None = None, base: Path | None = None) -> Policy:
    """A policy by name (file stem in models/) or by explicit path to a YAML file (relative to
    `base` when given, e.g. the scenario folder).

    A name that is neither (`..`, `a b`, `x.json`) is refused; an unknown name lists the known
    ones. A file that is not a policy (any key `Policy` does not know) is reported by its unknown
    keys and their lines only: no value of such a file is ever echoed, as it may not be the
    user's (a `--policy` pointing at a secrets file)."""
    folder = folder or models_dir()
    text = str(name_or_path)
    if is_policy_path(text):
        path = Path(text)
        if base is not None and not path.is_absolute():
            path = base / path
        return _load_policy_file(path, path.stem)
    if not POLICY_NAME.fullmatch(text):
        raise ScenarioError(
            [
                InputProblem(
                    "policy",
                    None,
                    None,
                    text,
                    "not a policy name (letters, digits, _ and -) nor a path to a .yaml file",
                )
            ]
        )
    path = folder / f"{text}.yaml"
    if not path.is_file():
        known = ", ".join(policy_names(folder)) or "none"
        raise ScenarioError(
            [InputProblem("policy", None, None, text, f"unknown policy; known policies: {known}")]
        )
    return _load_policy_file(path, text)


def _load_policy_file(path: Path, name: str) -> Policy:
    problems: list[InputProblem] = []
    label = str(path)
    lines: dict[tuple[str, ...], int] = {}
    data = read_yaml(path, problems, label, lines)
    if problems:
        raise ScenarioError(problems)
    if not isinstance(data, dict):
        raise ScenarioError([InputProblem(label, None, None, None, "a policy is a mapping of keys")])
    data = {**data}
    data.setdefault("name", name)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        found = pydantic_problems(exc, label, lines=lines, model=Policy)
        unknown = [p for p in found if p.rule.startswith("unknown key")]
        raise ScenarioError(unknown or found) from None
