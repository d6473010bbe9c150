"""Assignment policies: the objective's weights and switches, kept as YAML files in models/ and
validated by the `Policy` model of schema.py before any problem is built."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from .io import pydantic_problems, read_yaml
from .schema import InputProblem, Policy, ScenarioError

__all__ = ["Policy", "load_policy", "policy_names", "models_dir"]


def models_dir() -> Path:
    """Where named policies live: $OPTASSIGN_MODELS, else the project's models/ folder, else the
    copy installed inside the package."""
    env = os.environ.get("OPTASSIGN_MODELS")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "models", here.parent / "models"):
        if candidate.is_dir():
            return candidate
    return here.parents[2] / "models"


def policy_names(folder: Path | None = None) -> list[str]:
    folder = folder or models_dir()
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_policy(name_or_path: str | Path, folder: Path | None = None) -> Policy:
    """A policy by name (file stem in models/) or by path to a YAML file."""
    folder = folder or models_dir()
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = folder / f"{name_or_path}.yaml"
        if not path.is_file():
            known = ", ".join(policy_names(folder)) or "none"
            raise ScenarioError(
                [
                    InputProblem(
                        "policy", None, None, str(name_or_path), f"unknown policy; known policies: {known}"
                    )
                ]
            )
    problems: list[InputProblem] = []
    label = str(path)
    data = read_yaml(path, problems, label)
    if problems:
        raise ScenarioError(problems)
    if not isinstance(data, dict):
        raise ScenarioError([InputProblem(label, None, None, None, "a policy is a mapping of keys")])
    data.setdefault("name", path.stem)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(pydantic_problems(exc, label)) from None
