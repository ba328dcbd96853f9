"""Rules about the GPUs themselves: count, model, modes, power, ECC, throttling and MIG."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from gpuforge.validate._expect import NodeExpectation
from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._findings import Hit, error, rule, warning
from gpuforge.validate._gpu import HARMFUL_THROTTLE

_POWER_TOLERANCE_W = 1.0


@rule("GF-HEALTH-002", "GPU count matches the pool")
def gpu_count(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """The node shows as many GPUs as its pool declares."""
    if facts.collectors.get("query_gpu") is None or not facts.collectors["query_gpu"].collected:
        return
    if len(facts.gpus) != expect.gpu_count:
        yield error(
            f"{len(facts.gpus)} GPU(s) visible, pool '{expect.pool}' expects {expect.gpu_count}",
            "check `nvidia-smi -L` and the kernel log for GPUs that failed to initialise; reseat "
            "or replace missing GPUs, or correct the pool's gpu count",
        )


@rule("GF-HEALTH-003", "GPU model matches the pool")
def gpu_model(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Every GPU's nvidia-smi name is one the pool's model is known by."""
    accepted = {name.lower() for name in expect.gpu_model_smi_names}
    for gpu in facts.gpus:
        if gpu.name is not None and gpu.name.lower() not in accepted:
            yield error(
                f"GPU {gpu.index} is a '{gpu.name}', pool '{expect.pool}' expects "
                + " or ".join(f"'{n}'" for n in expect.gpu_model_smi_names),
                "place the node in a pool of its GPU model, or fix the pool's `gpu:` model",
                gpu.index,
            )


@rule("GF-HEALTH-007", "persistence mode as the spec says")
def persistence(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Persistence mode is on (or off) on every GPU, as the spec's gpu.persistence_mode says."""
    wanted = "on" if expect.persistence_mode else "off"
    for gpu in facts.gpus:
        if gpu.persistence is not None and gpu.persistence != expect.persistence_mode:
            yield error(
                f"GPU {gpu.index} has persistence mode {'on' if gpu.persistence else 'off'}, "
                f"expected {wanted}",
                "re-run `gpuforge up` (role gpu_tuning) or `nvidia-smi -i "
                f"{gpu.index} -pm {1 if expect.persistence_mode else 0}`",
                gpu.index,
            )


@rule("GF-HEALTH-008", "power limit as the spec says")
def power_limit(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Each GPU's enforced power limit equals the spec's gpu.power_limit_w."""
    if expect.power_limit_w is None:
        return
    for gpu in facts.gpus:
        if gpu.power_limit_w is None:
            continue
        if abs(gpu.power_limit_w - expect.power_limit_w) > _POWER_TOLERANCE_W:
            yield error(
                f"GPU {gpu.index} power limit is {gpu.power_limit_w:g} W, expected "
                f"{expect.power_limit_w:g} W",
                "re-run `gpuforge up` (role gpu_tuning), or `nvidia-smi -i "
                f"{gpu.index} -pl {expect.power_limit_w:g}` within the GPU's min/max range",
                gpu.index,
            )


@rule("GF-HEALTH-009", "compute mode as the spec says")
def compute_mode(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Each GPU runs in the spec's compute mode (DEFAULT, EXCLUSIVE_PROCESS or PROHIBITED)."""
    wanted = expect.compute_mode.upper()
    for gpu in facts.gpus:
        if gpu.compute_mode is not None and gpu.compute_mode != wanted:
            yield error(
                f"GPU {gpu.index} compute mode is {gpu.compute_mode}, expected {wanted}",
                "re-run `gpuforge up` (role gpu_tuning) or "
                f"`nvidia-smi -i {gpu.index} -c {wanted}`",
                gpu.index,
            )


@rule("GF-HEALTH-010", "no uncorrectable ECC errors")
def uncorrectable_ecc(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """No GPU reports volatile uncorrectable ECC errors since the driver loaded."""
    del expect  # judged the same for every pool
    for gpu in facts.gpus:
        if gpu.ecc_uncorrected_volatile:
            yield error(
                f"GPU {gpu.index} has {gpu.ecc_uncorrected_volatile} uncorrectable ECC error(s)",
                "drain the node, reset the GPU (`nvidia-smi -r -i "
                f"{gpu.index}`) and run `dcgmi diag -r 3`; replace the GPU if errors return",
                gpu.index,
            )


@rule("GF-HEALTH-011", "no row remapping pending")
def remap_pending(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """A pending row remap only takes effect after a GPU reset; until then memory is degraded."""
    del expect
    for gpu in facts.gpus:
        if gpu.remap_pending:
            yield warning(
                f"GPU {gpu.index} has a row remapping pending",
                f"drain the node and reset the GPU (`nvidia-smi -r -i {gpu.index}`) or reboot",
                gpu.index,
            )


@rule("GF-HEALTH-014", "no thermal or power-brake throttling")
def throttling(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Clock slowdowns from heat or an external power brake point at cooling or power faults."""
    del expect
    for gpu in facts.gpus:
        harmful = [r for r in gpu.throttle_reasons if r in HARMFUL_THROTTLE]
        if harmful:
            yield warning(
                f"GPU {gpu.index} is throttled: {', '.join(harmful)}",
                "check airflow, fans and inlet temperature (thermal) or the chassis power supply "
                "and BMC power capping (power brake)",
                gpu.index,
            )


@rule("GF-HEALTH-020", "MIG layout as declared")
def mig_layout(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """MIG is off when the spec declares none; else each GPU has exactly the declared instances."""
    for gpu in facts.gpus:
        if expect.mig_config is None:
            if gpu.mig_mode:
                yield error(
                    f"GPU {gpu.index} has MIG mode enabled, the spec declares no MIG",
                    f"`nvidia-smi -i {gpu.index} -mig 0` (needs a GPU reset), or declare gpu.mig",
                    gpu.index,
                )
            continue
        if gpu.mig_mode is False:
            yield error(
                f"GPU {gpu.index} has MIG mode disabled, the spec declares MIG",
                "re-run `gpuforge up` (role mig); MIG mode needs a GPU reset to take effect",
                gpu.index,
            )
            continue
        layout = dict(Counter(i.profile for i in facts.mig_instances if i.gpu == gpu.index))
        if layout != expect.mig_config:
            shown = ", ".join(f"{n}x {p}" for p, n in sorted(layout.items())) or "none"
            wanted = ", ".join(f"{n}x {p}" for p, n in sorted(expect.mig_config.items()))
            yield error(
                f"GPU {gpu.index} has MIG instances {shown}, expected {wanted}",
                "re-run `gpuforge up` (role mig), which recreates the declared instances",
                gpu.index,
            )
