"""check_yaml / load_yaml / load_json: untrusted text to plain data, or a located FileError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpuforge.errors import FileError, Problem
from gpuforge.files import ALIAS_BUDGET, load_json, load_yaml

LAUGHS = Path(__file__).parents[2] / "fixtures" / "bad_inputs" / "spec" / "billion_laughs.yaml"


def _problem(text: str) -> Problem:
    with pytest.raises(FileError) as caught:
        load_yaml(text, "f.yaml")
    (problem,) = caught.value.problems
    return problem


def test_billion_laughs_is_refused_by_the_alias_budget_before_expanding() -> None:
    text = LAUGHS.read_text(encoding="utf-8")

    problem = _problem(text)

    assert len(text.encode()) == 342
    assert problem.message == (
        f"aliases expand to more than {ALIAS_BUDGET} extra nodes (an alias bomb?)"
    )


def test_modest_reuse_of_anchors_is_fine() -> None:
    block = "&b {" + ", ".join(f"k{i}: {i}" for i in range(10)) + "}"
    text = f"base: {block}\n" + "".join(f"p{i}: {{<<: *b, n: {i}}}\n" for i in range(100))

    data = load_yaml(text, "f.yaml")

    assert data["p99"] == {**{f"k{i}": i for i in range(10)}, "n": 99}


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("a: !!python/object/apply:os.system [id]\n", "a", "tag `!!python/object/apply:os.system`"),
        ("a: [1, !!python/name:os.system x]\n", "a[1]", "tag `!!python/name:os.system`"),
        ("a: {b: !!python/object/new:dict {}}\n", "a.b", "tag `!!python/object/new:dict`"),
        ("a: !vault x\n", "a", "tag `!vault`"),
        ("a: !!binary aGk=\n", "a", "tag `!!binary`"),
        ("a: !!omap [{b: 1}]\n", "a", "tag `!!omap`"),
        ("a: &x {b: *x}\n", "a.b", "an alias refers to a block that contains it"),
        ("a: " + "9" * 101 + "\n", "a", "number with more than 100 digits"),
        ("? [1]\n: x\n", "", "a key must be a plain value"),
    ],
)
def test_what_must_never_be_constructed_is_refused(text: str, field: str, message: str) -> None:
    problem = _problem(text)

    assert problem.location.path == field
    assert problem.message.startswith(message)
    assert problem.location.line == 1
    assert problem.fix


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("a: [1,\n", (2, 1), "invalid YAML"),
        ("a: 1\nb: \x07\n", (2, 4), "control character U+0007"),
        ("a: 1\na: 2\n", (2, 1), "invalid YAML: found duplicate key"),
    ],
)
def test_syntax_problems_are_located(text: str, where: tuple[int, int], message: str) -> None:
    problem = _problem(text)

    assert (problem.location.line, problem.location.column) == where
    assert problem.message.startswith(message)


def test_deep_flow_nesting_is_refused_at_its_line_before_parsing() -> None:
    problem = _problem("a: 1\nb: " + "[" * 5000 + "]" * 5000)
    assert problem.message.startswith("document nests too deeply (over 64 levels")
    assert problem.location.line == 2


def test_deep_block_nesting_is_refused() -> None:
    text = "".join(f"{' ' * depth}k:\n" for depth in range(2000)) + " " * 2000 + "k: 1\n"
    assert _problem(text).message == "document nests too deeply"


@pytest.mark.parametrize(
    "text",
    [
        "a: 1  # " + "[" * 100 + "\n",
        "a: '" + "{" * 100 + "'\n",
        'a: "\\"' + "[" * 100 + '"\n',
        "a: " + "[1, " * 64 + "]" * 64 + "\n",
    ],
    ids=["comment", "single-quoted", "double-quoted", "64-levels"],
)
def test_brackets_in_comments_and_strings_and_64_levels_still_load(text: str) -> None:
    assert isinstance(load_yaml(text, "f.yaml"), dict)


def test_a_fix_can_replace_every_hint() -> None:
    with pytest.raises(FileError) as caught:
        load_yaml("a: [", "x.lock", "regenerate it")
    assert caught.value.fix == "regenerate it"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('{"a": [1,', (1, 10), "invalid JSON"),
        ("[" * 100_000 + "]" * 100_000, (0, 0), "invalid JSON: document nests too deeply"),
        ('{"a": ' + "1" * 5000 + "}", (0, 0), "invalid JSON: Exceeds the limit"),
    ],
)
def test_json_problems_are_located(text: str, where: tuple[int, int], message: str) -> None:
    with pytest.raises(FileError) as caught:
        load_json(text, "f.json", "rewrite it")
    (problem,) = caught.value.problems
    assert (problem.location.line, problem.location.column) == where
    assert problem.message.startswith(message)
    assert problem.fix == "rewrite it"


_YAML_ALPHABET = st.sampled_from(list(":-[]{}&*!|>'\"#%@`,? \t\n0123456789abxyz\x00\x07é💥<"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(_YAML_ALPHABET, max_size=80))
def test_any_text_is_data_or_a_file_error(text: str) -> None:
    """Fuzzed YAML never escapes as another exception (TypeError, RecursionError, ...)."""
    try:
        load_yaml(text, "f.yaml")
    except FileError as error:
        assert error.problems and error.fix


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list('{}[]":,0123456789.eE-+ tfnrulas\\\x00é')), max_size=80))
def test_any_json_text_is_data_or_a_file_error(text: str) -> None:
    try:
        load_json(text, "f.json", "rewrite it")
    except FileError as error:
        assert error.problems[0].fix == "rewrite it"
