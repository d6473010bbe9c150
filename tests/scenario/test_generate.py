"""Tests of the synthetic scenario generator and of the bundled scenarios it builds."""

from __future__ import annotations

import pathlib
import re

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import optassign
from optassign.cli.main import app
from optassign.scenario.generate import PROFILES, generate_scenario, generate_tables
from tests.checker import assert_plan_ok

ROOT = pathlib.Path(__file__).resolve().parents[2]
FILES = ("scenario.yaml", "agents.csv", "customers.csv", "tasks.csv")
SKILLS_RE = re.compile(r"^[A-Za-z0-9_]+(:[1-5])?(;[A-Za-z0-9_]+(:[1-5])?)*$")
BOOLS = {"true", "false", "1", "0", "yes", "no"}


def _read(folder: pathlib.Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def _skills(text: str) -> dict[str, int]:
    out = {}
    for part in filter(None, text.split(";")):
        name, _, level = part.partition(":")
        out[name] = int(level or 1)
    return out


def _covers(regions: str, region: str) -> bool:
    return regions == "*" or region in regions.split(";")


def check_contract(folder: pathlib.Path) -> dict[str, pd.DataFrame]:
    """Assert the data-contract rules a generated scenario promises; return the tables."""
    meta = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    assert {"name", "description", "policy"} <= set(meta)
    agents, customers, tasks = (_read(folder, f) for f in ("agents.csv", "customers.csv", "tasks.csv"))
    for df, key in ((agents, "agent_id"), (customers, "customer_id"), (tasks, "task_id")):
        assert df[key].is_unique and (df[key] != "").all()

    # agents
    assert agents["skills"].map(lambda s: bool(SKILLS_RE.match(s))).all()
    assert agents["regions"].map(lambda s: s == "*" or bool(re.match(r"^R\d+(;R\d+)*$", s))).all()
    assert (agents["capacity_hours"].astype(float) >= 0).all()
    for col in ("max_tasks", "max_customers"):
        vals = agents.loc[agents[col] != "", col]
        assert vals.str.fullmatch(r"\d+").all()
    assert agents["active"].str.lower().isin(BOOLS).all()
    ag = agents.set_index("agent_id")
    active = ag["active"].str.lower().isin({"true", "1", "yes"})
    a_skills = ag["skills"].map(_skills)
    cap = ag["capacity_hours"].astype(float)

    def eligible(agent: str, region: str, req: str) -> bool:
        have = a_skills[agent]
        return (
            bool(active[agent])
            and _covers(ag.at[agent, "regions"], region)
            and all(have.get(s, 0) >= lv for s, lv in _skills(req).items())
        )

    # customers
    assert customers["tier"].isin(["A", "B", "C", ""]).all()
    assert customers["required_skills"].map(lambda s: s == "" or bool(SKILLS_RE.match(s))).all()
    assert (customers["ownership_hours"].replace("", "0").astype(float) >= 0).all()
    owned = customers[customers["owner_id"] != ""]
    assert owned["owner_id"].isin(ag.index).all()
    for _, c in owned.iterrows():
        assert eligible(c["owner_id"], c["region"], c["required_skills"]), c.to_dict()
    held = owned["owner_id"].value_counts()
    limit = ag.loc[ag["max_customers"] != "", "max_customers"].astype(int)
    assert (held.reindex(limit.index).fillna(0) <= limit).all()
    own_hours = owned.assign(h=owned["ownership_hours"].astype(float)).groupby("owner_id")["h"].sum()

    # tasks
    assert tasks["customer_id"].isin(customers["customer_id"]).all()
    assert tasks["priority"].str.fullmatch(r"[1-5]").all()
    effort = tasks["effort_hours"].astype(float)
    assert (effort > 0).all()
    assert tasks["required_skills"].map(lambda s: s == "" or bool(SKILLS_RE.match(s))).all()
    assert tasks["due_date"].map(lambda s: s == "" or bool(re.fullmatch(r"\d{4}-\d\d-\d\d", s))).all()
    pd.to_datetime(tasks.loc[tasks["due_date"] != "", "due_date"], format="%Y-%m-%d")
    assert tasks["pinned"].str.lower().isin(BOOLS).all()
    c_region = customers.set_index("customer_id")["region"]
    region = tasks["region"].where(tasks["region"] != "", tasks["customer_id"].map(c_region))
    on = tasks["assigned_to"] != ""
    assert tasks.loc[on, "assigned_to"].isin(ag.index).all()
    for i in tasks.index[on]:  # the generator only writes eligible current assignees
        assert eligible(tasks.at[i, "assigned_to"], region[i], tasks.at[i, "required_skills"])
    pinned = tasks["pinned"].str.lower().isin({"true", "1", "yes"})
    assert (on | ~pinned).all(), "a pinned task needs assigned_to"
    # pinned work alone fits every agent (hard rule 3 can hold with all pins kept)
    pin_hours = effort[pinned].groupby(tasks.loc[pinned, "assigned_to"]).sum()
    pin_hours = pin_hours.add(own_hours, fill_value=0.0)
    assert (pin_hours <= cap.reindex(pin_hours.index) + 1e-9).all()
    pin_count = tasks.loc[pinned, "assigned_to"].value_counts()
    caps = ag.loc[ag["max_tasks"] != "", "max_tasks"].astype(int)
    assert (pin_count.reindex(caps.index).fillna(0) <= caps).all()
    plan_count = tasks.loc[on, "assigned_to"].value_counts()
    assert (plan_count.reindex(caps.index).fillna(0) <= caps).all()

    # events
    ev_path = folder / "events.yaml"
    if ev_path.exists():
        events = yaml.safe_load(ev_path.read_text(encoding="utf-8"))["events"]
        known = set(ag.index)
        for ev in events:
            (kind,) = set(ev) - {"to"}
            assert kind in {"leave", "hire", "capacity", "transfer", "skills"}
            if kind == "leave":
                assert ev["leave"] in known
                assert set(ev.get("to", [])) <= known
            elif kind == "hire":
                assert {"agent_id", "capacity_hours"} <= set(ev["hire"])
                assert SKILLS_RE.match(ev["hire"].get("skills", "x"))
                known.add(ev["hire"]["agent_id"])
            else:
                assert ev[kind]["agent"] in known
    return {"agents": agents, "customers": customers, "tasks": tasks}


def _ratio(tables) -> float:
    agents = tables["agents"]
    cap = agents.loc[agents["active"] == "true", "capacity_hours"].astype(float).sum()
    return tables["tasks"]["effort_hours"].astype(float).sum() / cap


def test_same_seed_gives_identical_files(tmp_path):
    a = generate_scenario(tmp_path / "a", tasks=800, agents=30, regions=4, seed=3)
    b = generate_scenario(tmp_path / "b", tasks=800, agents=30, regions=4, seed=3)
    c = generate_scenario(tmp_path / "c", tasks=800, agents=30, regions=4, seed=4)
    for f in FILES[1:]:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / "tasks.csv").read_bytes() != (c / "tasks.csv").read_bytes()
    assert (a / "agents.csv").read_bytes() != (c / "agents.csv").read_bytes()


def test_counts_and_references(tmp_path):
    out = generate_scenario(
        tmp_path / "s", tasks=2000, agents=60, regions=5, skills=8, seed=1, name="mid", policy="continuity"
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    t = check_contract(out)
    assert len(t["tasks"]) == 2000 and len(t["agents"]) == 60
    assert len(t["customers"]) == 2000 // 8
    meta = yaml.safe_load((out / "scenario.yaml").read_text())
    assert meta["name"] == "mid" and meta["policy"] == "continuity"
    assert "2000 tasks" in meta["description"] and "60 agents" in meta["description"]
    tasks = t["tasks"]
    assert tasks["task_id"].iloc[0] == "T0000001" and t["agents"]["agent_id"].iloc[0] == "A00001"
    assert set(t["customers"]["region"]) <= {f"R{i:02d}" for i in range(1, 6)}
    # a plan in force for most tasks, a few pins, a realistic priority mix
    assert 0.55 <= (tasks["assigned_to"] != "").mean() <= 0.85
    assert 0.01 <= (tasks["pinned"] == "true").mean() <= 0.06
    assert 0.7 <= (t["customers"]["owner_id"] != "").mean() <= 0.95
    share = tasks["priority"].astype(int).value_counts(normalize=True)
    assert share[5] < 0.12 and share[1] > 0.1


def test_explicit_customers_and_tiny_sizes(tmp_path):
    t = check_contract(generate_scenario(tmp_path / "c", tasks=50, agents=3, customers=7, seed=2))
    assert len(t["customers"]) == 7
    t = check_contract(generate_scenario(tmp_path / "one", tasks=1, agents=1, regions=3, skills=25, seed=0))
    assert len(t["customers"]) == 10
    assert len(t["tasks"]) == 1


@pytest.mark.parametrize("load", [0.8, 1.08, 1.3])
def test_effort_follows_load(tmp_path, load):
    out = generate_scenario(tmp_path / "s", tasks=3000, agents=60, regions=5, seed=5, load=load)
    assert _ratio(check_contract(out)) == pytest.approx(load, rel=0.02)


def test_refuses_non_empty_folder(tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("planner notes")
    with pytest.raises(FileExistsError):
        generate_scenario(out, tasks=10, agents=2)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    generate_scenario(empty, tasks=10, agents=2)
    assert (empty / "tasks.csv").exists()
    # nothing left behind next to the folders
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "taken"]


def test_smoke_100_tasks(tmp_path):
    out = generate_scenario(tmp_path / "smoke", tasks=100, agents=8, regions=2, seed=0)
    t = check_contract(out)
    assert len(t["tasks"]) == 100
    assert _ratio(t) == pytest.approx(1.08, rel=0.05)
    infeasible = 0
    agents = t["agents"][t["agents"]["active"] == "true"]
    regions = t["customers"].set_index("customer_id")["region"]
    for _, task in t["tasks"].iterrows():
        region = task["region"] or regions[task["customer_id"]]
        req = _skills(task["required_skills"])
        ok = any(
            _covers(a["regions"], region)
            and all(_skills(a["skills"]).get(s, 0) >= lv for s, lv in req.items())
            for _, a in agents.iterrows()
        )
        infeasible += not ok
    assert infeasible <= 5


@pytest.mark.parametrize("name", ["demo", "service_desk", "b2b_sales"])
def test_bundled_scenarios_follow_the_contract(name):
    folder = ROOT / "scenarios" / name
    if not (folder / "tasks.csv").exists():
        pytest.skip(f"scenarios/{name} not built")
    t = check_contract(folder)
    assert _ratio(t) == pytest.approx(1.08, rel=0.05)


@pytest.mark.parametrize("name", list(PROFILES))
def test_every_profile_gives_a_valid_batch_the_engine_solves(tmp_path, name):
    folder = generate_scenario(tmp_path / name, tasks=400, agents=40, seed=2, profile=name)
    again = generate_scenario(tmp_path / "again", tasks=400, agents=40, seed=2, profile=name)
    for f in ("agents.csv", "customers.csv", "tasks.csv"):
        assert (folder / f).read_bytes() == (again / f).read_bytes()
    scenario = optassign.load_scenario(folder)
    plan = optassign.solve(scenario, time_limit=5, workers=1)
    plan.write(tmp_path / "plan")
    assert_plan_ok(folder, tmp_path / "plan")


def test_profiles_have_their_shape(tmp_path):
    def tables(name, **kw):
        return generate_tables(tasks=3000, agents=120, seed=4, profile=name, **kw)

    crm, spec, one, small = (tables(n) for n in ("crm", "specialists", "one-region", "small-regions"))
    two = [t["tasks"].required_skills.str.contains(";").mean() for t in (spec, crm)]
    assert two[0] > 0.15 and two[0] > two[1] + 0.05  # two skills, more often
    assert spec["agents"].skills.str.count(";").max() <= 1  # one or two skills per agent
    assert set(one["tasks"].region) <= {"", "R01"}
    assert small["tasks"].region.replace("", pd.NA).dropna().nunique() > 40
    heavy = tables("heavy-tail").get("tasks").effort_hours.astype(float)
    assert heavy.max() > 16 and heavy.median() < crm["tasks"].effort_hours.astype(float).median()
    pinned = tables("pinned")["tasks"]
    assert (pinned.pinned == "true").mean() > 0.15
    uneven = tables("uneven", regions=8)
    agents, tasks = uneven["agents"], uneven["tasks"]
    home = agents.regions.str.split(";").str[0]
    hours = agents.capacity_hours.astype(float).groupby(home).sum()
    work = tasks[tasks.region != ""].effort_hours.astype(float).groupby(tasks.region).sum()
    ratio = (work / hours).dropna()
    assert ratio.max() / ratio.min() > 1.3  # some regions far busier than others
    # regions, skills and load given by the caller win over the profile's
    assert tables("specialists", skills=8)["agents"].shape[0] == 120
    with pytest.raises(ValueError, match="unknown profile 'nope'; known profiles: crm, specialists"):
        tables("nope")


def test_the_cli_names_an_unknown_profile_and_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["generate", str(tmp_path / "x"), "--profile", "nope"])
    assert result.exit_code == 2 and "--profile: value 'nope': unknown profile" in result.stderr
    assert not (tmp_path / "x").exists()
    ok = CliRunner().invoke(
        app, ["generate", str(tmp_path / "y"), "--tasks", "50", "--profile", "one-region"]
    )
    assert ok.exit_code == 0 and "1 regions" in (tmp_path / "y" / "scenario.yaml").read_text()
