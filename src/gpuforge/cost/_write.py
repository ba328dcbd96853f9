"""Write an optimised plan back into the spec's YAML, keeping its comments and other fields.

A pool placed on one option keeps its name; a pool split over several options becomes
`<pool>`, `<pool>-2`, ... with the same settings. The result is validated before it is returned.
"""

from __future__ import annotations

import copy
import io
from typing import Any

from ruamel.yaml import YAML

from gpuforge.cost._optimize import Placement, Plan
from gpuforge.spec import SpecDocument, load_spec_text


def _market(placement: Placement, original: str) -> str:
    if placement.option.market == "on-demand":
        return "on-demand"
    return "spot-with-fallback" if original == "spot-with-fallback" else "spot"


def _place(entry: Any, placement: Placement) -> Any:
    option = placement.option
    entry["target"] = option.place
    entry["instance_type"] = option.instance_type
    entry["count"] = placement.nodes
    entry["market"] = _market(placement, str(entry.get("market", "on-demand")))
    for stale in ("zone", "profile", "hosts"):
        entry.pop(stale, None)
    gpu = entry.get("gpu")
    if isinstance(gpu, dict):
        gpu["model"] = option.gpu
        gpu["count"] = option.gpus
    elif gpu is not None:
        entry["gpu"] = f"{option.gpu}:{option.gpus}"
    network = entry.get("network")
    if isinstance(network, dict) and network.get("efa") and not option.efa:
        network["efa"] = False
    return entry


def _free_name(base: str, taken: set[str]) -> str:
    index = 2
    while f"{base}-{index}" in taken:
        index += 1
    return f"{base}-{index}"


def optimised_spec(text: str, doc: SpecDocument, plan: Plan) -> str:
    """The spec text with every feasible pool plan written in; SpecError if it would not load."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.preserve_quotes = True
    data = yaml.load(text)
    spec = doc.spec
    taken = set(spec.pools)
    pools = data["pools"]
    placed: dict[str, Any] = {}
    targets: list[str] = []
    for name, raw in pools.items():
        pool_plan = plan.pools.get(str(name))
        if pool_plan is None or pool_plan.problem is not None or not pool_plan.placements:
            placed[name] = raw
            targets.append(str(spec.pool_target(spec.pools[str(name)])))
            continue
        for index, placement in enumerate(pool_plan.placements):
            new_name = str(name) if index == 0 else _free_name(str(name), taken)
            taken.add(new_name)
            placed[new_name] = _place(copy.deepcopy(raw), placement)
            targets.append(placement.option.place)
    for name in list(pools):
        del pools[name]
    pools.update(placed)
    ordered = list(dict.fromkeys(targets))
    first = str(spec.target[0])
    if first in ordered:
        ordered.remove(first)
        ordered.insert(0, first)
    data["target"] = ordered[0] if len(ordered) == 1 else ordered
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    out = buffer.getvalue()
    load_spec_text(out, doc.file)
    return out
