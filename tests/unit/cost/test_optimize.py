"""`gpuforge cost optimize`: the MILP's optimum equals a brute-force enumeration on small cases,
and on real specs it honours spot share, regions, interconnect and GPU requirements."""

from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gpuforge.catalog import load_catalog
from gpuforge.cli import build_app
from gpuforge.cost import Need, Option, solve_pool
from gpuforge.spec import load_spec


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


ROOT = Path(__file__).parents[3]
EXAMPLES = ROOT / "examples"
THREE_CLOUDS = ROOT / "tests" / "fixtures" / "specs" / "cost" / "three-clouds.yaml"
runner = CliRunner()


def _brute_force(need: Need, options: list[Option]) -> float | None:
    """The cheapest feasible node vector, by trying every one within generous bounds."""
    bounds = [range(math.ceil(need.total_gpus / o.gpus) + 3) for o in options]
    best: float | None = None
    for nodes in itertools.product(*bounds):
        gpus = sum(n * o.gpus for n, o in zip(nodes, options, strict=True))
        if gpus < need.total_gpus:
            continue
        spot = sum(n * o.gpus for n, o in zip(nodes, options, strict=True) if o.market == "spot")
        if spot > need.max_spot_share * gpus + 1e-9:
            continue
        places = {o.place for n, o in zip(nodes, options, strict=True) if n > 0}
        if len(places) < need.min_regions:
            continue
        cost = sum(n * o.usd_per_hour for n, o in zip(nodes, options, strict=True))
        best = cost if best is None else min(best, cost)
    return best


def _random_case(rng: random.Random) -> tuple[Need, list[Option]]:
    options = [
        Option(
            cloud=rng.choice(["aws", "gcp"]),
            region=rng.choice(["r1", "r2", "r3"]),
            instance_type=f"t{i}",
            gpu="H100",
            gpus=rng.choice([2, 4, 8]),
            gpu_memory_gib=80.0,
            market=rng.choice(["on-demand", "spot"]),
            usd_per_hour=round(rng.uniform(1, 40), 2),
        )
        for i in range(4)
    ]
    need = Need(
        total_gpus=rng.choice([4, 8, 12, 16]),
        max_spot_share=rng.choice([0.0, 0.25, 0.5, 1.0]),
        min_regions=rng.choice([1, 1, 2, 3]),
    )
    return need, options


@pytest.mark.parametrize("seed", range(40))
def test_milp_matches_brute_force(seed: int) -> None:
    need, options = _random_case(random.Random(seed))

    solution = solve_pool(need, options)
    expected = _brute_force(need, options)

    if expected is None:
        assert solution is None
        return
    assert solution is not None
    cost = sum(options[i].usd_per_hour * n for i, n in solution.items())
    assert cost == pytest.approx(expected)


def _optimize(*args: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(build_app(), ["cost", "optimize", *args, "--json"])
    return result.exit_code, _payload(result.stdout)


def test_cross_region_arbitrage_picks_the_cheapest_region_for_the_spec_s_pool() -> None:
    p5 = load_catalog().instance("aws", "p5.48xlarge")
    assert p5 is not None
    cheapest = min(r.spot for r in p5.regions.values() if r.spot)

    code, same_region = _optimize(str(EXAMPLES / "aws-training.yaml"))
    _, any_region = _optimize(str(EXAMPLES / "aws-training.yaml"), "--region", "*")

    assert code == 0
    plan = any_region["pools"]["training"]  # type: ignore[index]
    assert plan["usd_per_hour"] == pytest.approx(16 * cheapest)
    assert [p["instance_type"] for p in plan["placements"]] == ["p5.48xlarge"]
    kept = same_region["pools"]["training"]  # type: ignore[index]
    assert {p["region"] for p in kept["placements"]} == {"us-west-2"}
    assert any("regions limited to us-west-2" in b for b in kept["binding"])


def test_every_example_and_the_three_cloud_spec_optimize() -> None:
    for spec in [*sorted(EXAMPLES.glob("*.yaml")), THREE_CLOUDS]:
        if spec.name == "broken.yaml":
            continue
        code, data = _optimize(str(spec), "--region", "*")
        assert code == 0, (spec, data)
        assert data["usd_per_hour"] <= data["spec_usd_per_hour"] + 1e-6 or spec == THREE_CLOUDS  # type: ignore[operator]


def test_three_cloud_requirements_hold() -> None:
    _, data = _optimize(str(THREE_CLOUDS), "--region", "*")
    pools = data["pools"]
    catalog = load_catalog()

    assert len(pools) == 10  # type: ignore[arg-type]
    for name, plan in pools.items():  # type: ignore[attr-defined]
        req = plan["requirements"]
        placed = plan["placements"]
        gpus = sum(p["gpus"] * p["nodes"] for p in placed)
        spot = sum(p["gpus"] * p["nodes"] for p in placed if p["market"] == "spot")
        assert gpus >= req["total_gpus"], name
        assert spot <= req["max_spot_share"] * gpus + 1e-9, name
        assert len({(p["cloud"], p["region"]) for p in placed}) >= req["min_regions"], name
        for p in placed:
            if "rdma" in req["interconnect"]:
                assert p["efa"] or p["infiniband"], name
            if req["gpus_per_node"]:
                assert p["gpus"] == req["gpus_per_node"]
    h100 = pools["train-h100"]  # type: ignore[index]
    assert len({p["region"] for p in h100["placements"]}) >= 2
    dev = pools["dev"]  # type: ignore[index]
    assert all(catalog.gpus[p["gpu"]].memory_mib >= 40 * 1e9 / 2**20 for p in dev["placements"])
    infer = pools["infer-a10g"]  # type: ignore[index]
    assert all(p["market"] == "on-demand" for p in infer["placements"])  # on-demand pool


def test_write_gives_a_spec_that_loads_and_checks_clean(tmp_path: Path) -> None:
    out = tmp_path / "optimised.yaml"

    code, data = _optimize(str(THREE_CLOUDS), "--region", "*", "--write", str(out))

    assert code == 0
    assert data["written"]["errors"] == 0  # type: ignore[index]
    spec = load_spec(out).spec
    planned = sum(len(p["placements"]) for p in data["pools"].values())  # type: ignore[attr-defined]
    assert len(spec.pools) == planned
    h100 = [n for n in spec.pools if n.startswith("train-h100")]
    assert len({str(spec.pool_target(spec.pools[n])) for n in h100}) >= 2
    assert "# Ten pools over AWS" in out.read_text(encoding="utf-8")  # comments kept


def test_unknown_cloud_is_bad_input() -> None:
    code, data = _optimize(str(EXAMPLES / "aws-training.yaml"), "--cloud", "oracle")

    assert code == 2 and "oracle" in data["message"]  # type: ignore[operator]
