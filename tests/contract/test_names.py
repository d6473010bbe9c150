"""names.py: an id becomes a file name stem in one place. Plain ids are kept (today's file names),
anything else is a portable ASCII slug plus a hash; no two ids share a name, not even ignoring
case; a write outside its folder is refused; the index says whose file is which."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from optassign.contract.names import file_names, file_stem, inside, write_index
from tests.conftest import read_csv

HOSTILE = [
    "../../x",
    "/tmp/x",
    "a/b",
    "a\\b",
    "..",
    ".",
    "",
    "CON",
    "nul.txt",
    "COM1",
    "x" * 300,
    "é" * 150,  # 300 bytes of UTF-8
    "Ågent",
    "日本語",
    "ab",
    "AB",
    "a\x00b",
    "a\r\nb",
    "-rf",
    "x.",
    "$x$",
    "<script>alert(1)</script>",
]
# What every stem must look like: portable on Linux, macOS and Windows, no leading dot or dash.
PORTABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")


def test_plain_ids_keep_their_names():
    ids = ["A00012", "A1", "agent.7", "team_b-3", "x" * 64]
    assert file_names(ids) == {i: i for i in ids}
    assert file_stem("A00012") == "A00012"


def test_a_stem_is_always_a_portable_file_name():
    for agent_id, stem in file_names(HOSTILE).items():
        assert PORTABLE.fullmatch(stem), (agent_id, stem)
        assert not stem.endswith("."), stem
        assert stem.split(".")[0].upper() not in {"CON", "NUL", "COM1"}, stem
        assert len(stem.encode()) <= 64, stem


def test_distinct_ids_never_share_a_name_ignoring_case():
    names = file_names(HOSTILE + ["A1", "a1", "Straße", "STRASSE", "strasse"])
    assert len({n.casefold() for n in names.values()}) == len(names)
    assert names["ab"] != names["AB"] and names["ab"].startswith("ab-")  # both hashed
    assert names["A1"].startswith("A1-") and names["a1"].startswith("a1-")


def test_a_name_is_the_same_from_run_to_run_and_readable():
    assert file_names(["Ågent"])["Ågent"] == file_names(["B", "Ågent"])["Ågent"] == file_stem("Ågent")
    assert re.fullmatch(r"Agent-[0-9a-f]{10}", file_stem("Ågent"))
    assert file_stem("../../x") == file_stem("../../x") and "/" not in file_stem("../../x")


def test_an_id_chosen_to_look_like_a_hashed_name_does_not_take_it():
    other = file_stem("Ågent")  # Agent-<hash>: a plain id, kept as it is on its own
    names = file_names(["Ågent", other, other.upper()])
    assert len({n.casefold() for n in names.values()}) == 3


def test_a_write_outside_its_folder_is_refused(tmp_path):
    assert inside(tmp_path, "A1.md") == tmp_path / "A1.md"
    for name in ("../x.md", "/tmp/x.md", "a/b.md", "..", ""):
        with pytest.raises(ValueError, match="outside"):
            inside(tmp_path, name)
    (tmp_path / "link.md").symlink_to(tmp_path.parent / "elsewhere.md")
    with pytest.raises(ValueError, match="outside"):
        inside(tmp_path, "link.md")


def test_the_index_lists_every_id_verbatim(tmp_path):
    names = file_names(HOSTILE)
    write_index(tmp_path, {i: f"{n}.md" for i, n in names.items()})
    rows = read_csv(tmp_path / "index.csv")
    assert [r["agent_id"] for r in rows] == sorted(names)  # NUL and CR/LF kept, quoted
    assert {r["agent_id"]: r["file"] for r in rows} == {i: f"{n}.md" for i, n in names.items()}
    assert Path(tmp_path / "index.csv").read_text(encoding="utf-8").startswith("agent_id,file\n")
