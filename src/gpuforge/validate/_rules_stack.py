"""Rules about the software stack and the collectors: driver, CUDA, NCCL and cuDNN versions."""

from __future__ import annotations

import re
from collections.abc import Iterator

from gpuforge.validate._expect import NodeExpectation, version_matches
from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._findings import Hit, error, rule
from gpuforge.validate._layout import COLLECTOR_BY_KEY

# The driver metapackage: `nvidia-driver-580[-open]` (NVIDIA's Ubuntu repositories),
# `nvidia-driver-580-server[-open]` (Canonical's archive), `nvidia-driver` (NVIDIA's Debian one).
_DRIVER_PACKAGE = re.compile(r"^nvidia-driver(-\d+(-server)?(-open)?)?$")
_NCCL_CUDA = re.compile(r"\+cuda(?P<cuda>\d+\.\d+)")
# Collectors whose non-zero exit still carries a result the other rules judge in detail.
_RESULT_ON_FAILURE = {"dcgm", "nccl", "mig"}


def _required(expect: NodeExpectation) -> list[str]:
    needed = ["kernel_log"]
    if expect.gpu_count > 0:
        needed.append("query_gpu")
    if expect.nvlink is not None:
        needed.append("topo")
    if expect.mig_config is not None:
        needed.append("mig")
    if expect.dcgm_level > 0:
        needed.append("dcgm")
    if expect.hca_count > 0:
        needed.append("ibstat")
    if expect.driver_version or expect.cuda_version or expect.nccl_version or expect.cudnn_version:
        needed.append("packages")
    if expect.nccl_min_busbw_gbps is not None:
        needed.append("nccl")
    return needed


@rule("GF-HEALTH-001", "every needed collector ran")
def collectors(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Each probe the expectation needs produced output; a missing tool is named."""
    for key in _required(expect):
        collector = COLLECTOR_BY_KEY[key]
        run = facts.collectors.get(key)
        detail = f": {run.stderr.splitlines()[0]}" if run and run.stderr else ""
        if run is None or not run.collected:
            yield error(
                f"{collector.file} was not collected",
                "re-run the validate playbook (role gpu_validation) against this node",
            )
        elif run.tool_missing:
            yield error(
                f"`{collector.tool}` is not installed (collector `{collector.command}` exited "
                f"127){detail}",
                f"install the package that provides `{collector.tool}` (re-run `gpuforge up`)",
            )
        elif run.rc and key not in _RESULT_ON_FAILURE:
            yield error(
                f"`{collector.command}` failed with exit status {run.rc}{detail}",
                "run the command on the node to see why; a failing nvidia-smi usually means the "
                "driver is not loaded (reboot after a driver install)",
            )


@rule("GF-HEALTH-004", "driver version matches the lock")
def driver_version(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """The running driver and the installed driver package are the version the lock pins."""
    wanted = expect.driver_version
    if wanted is None:
        return
    packages = {n: v for n, v in facts.packages.items() if _DRIVER_PACKAGE.match(n)}
    for name, version in sorted(packages.items()):
        if not version_matches(version, wanted):
            yield error(
                f"package {name} is {version}, the lock pins driver {wanted}",
                "re-run `gpuforge up` (role nvidia_driver) to install the pinned driver",
            )
    running = sorted({g.driver for g in facts.gpus if g.driver})
    for version in running:
        if not version_matches(version, wanted):
            yield error(
                f"running driver is {version}, the lock pins {wanted}",
                "reboot the node to load the installed driver, or re-run `gpuforge up`",
            )
    if not packages and not running and facts.packages:
        yield error(
            f"no NVIDIA driver package installed (lock pins {wanted})",
            "re-run `gpuforge up` (role nvidia_driver)",
        )


@rule("GF-HEALTH-005", "CUDA toolkit version matches the lock")
def cuda_version(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """The `cuda-toolkit-X-Y` package of the locked CUDA version is installed."""
    wanted = expect.cuda_version
    if wanted is None or not facts.packages:
        return
    name = "cuda-toolkit-" + "-".join(wanted.split(".")[:2])
    version = facts.packages.get(name)
    if version is None:
        others = sorted(n for n in facts.packages if n.startswith("cuda-toolkit-"))
        seen = f" (found {', '.join(others)})" if others else ""
        yield error(
            f"{name} is not installed{seen}, the lock pins CUDA {wanted}",
            "re-run `gpuforge up` (role cuda_toolkit)",
        )
    elif not version_matches(version, wanted):
        yield error(
            f"{name} is {version}, the lock pins CUDA {wanted}",
            "re-run `gpuforge up` (role cuda_toolkit)",
        )


@rule("GF-HEALTH-006", "NCCL version matches the lock")
def nccl_version(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """`libnccl2` is the locked NCCL release, built for the locked CUDA version."""
    wanted = expect.nccl_version
    if wanted is None or not facts.packages:
        return
    version = facts.packages.get("libnccl2")
    if version is None:
        yield error(
            f"libnccl2 is not installed, the lock pins NCCL {wanted}",
            "re-run `gpuforge up` (role nccl)",
        )
        return
    if not version_matches(version, wanted):
        yield error(
            f"libnccl2 is {version}, the lock pins NCCL {wanted}",
            "re-run `gpuforge up` (role nccl)",
        )
    built_for = _NCCL_CUDA.search(version)
    cuda = ".".join((expect.cuda_version or "").split(".")[:2])
    if built_for and cuda and built_for.group("cuda") != cuda:
        yield error(
            f"libnccl2 {version} is built for CUDA {built_for.group('cuda')}, the lock pins {cuda}",
            "re-run `gpuforge up` (role nccl) to install the build for the locked CUDA",
        )


@rule("GF-HEALTH-028", "cuDNN version matches the lock")
def cudnn_version(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """`libcudnn9-cuda-<major>` is the locked cuDNN release for the locked CUDA major."""
    wanted = expect.cudnn_version
    if wanted is None or not facts.packages:
        return
    major = (expect.cuda_version or "").split(".")[0]
    names = [f"libcudnn9-cuda-{major}"] if major else []
    installed = {n: facts.packages[n] for n in names if n in facts.packages}
    if not installed:
        others = sorted(n for n in facts.packages if n.startswith("libcudnn"))
        seen = f" (found {', '.join(others)})" if others else ""
        yield error(
            f"libcudnn9-cuda-{major or '?'} is not installed{seen}, the lock pins cuDNN {wanted}",
            "re-run `gpuforge up` (role cudnn)",
        )
        return
    for name, version in installed.items():
        if not version_matches(version, wanted):
            yield error(
                f"{name} is {version}, the lock pins cuDNN {wanted}",
                "re-run `gpuforge up` (role cudnn)",
            )
