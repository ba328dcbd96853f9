"""Each health rule on the healthy node (no finding) and on a node that breaks it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from validate_captures import EXPECT, HEALTHY, real, with_gpu

from gpuforge.validate import (
    NODE_RULES,
    CollectorRun,
    DcgmDiag,
    DcgmTest,
    Finding,
    MigInstance,
    NodeExpectation,
    NodeFacts,
    Severity,
    judge_cluster_nccl,
    judge_node,
    parse_dcgmi_diag,
    parse_ibstat,
    parse_mig_instances,
    parse_nccl_tests,
    parse_topo,
    parse_xids,
)


def found(facts: NodeFacts, code: str, expect: NodeExpectation = EXPECT) -> list[Finding]:
    return [f for f in judge_node(facts, expect) if f.code == code]


def test_healthy_node_has_no_findings() -> None:
    assert judge_node(HEALTHY, EXPECT) == []


def test_codes_are_stable_and_unique() -> None:
    assert sorted(NODE_RULES) == [f"GF-HEALTH-{n:03d}" for n in range(1, 29)] + [
        "GF-HEALTH-033",
        "GF-HEALTH-034",
        "GF-SEC-101",
        "GF-SEC-102",
    ]
    assert all(rule.title and rule.check.__doc__ for rule in NODE_RULES.values())


def test_every_finding_names_node_and_has_a_fix() -> None:
    broken = with_gpu(2, ecc_uncorrected_volatile=3, persistence=False)
    findings = judge_node(broken, EXPECT)
    assert {f.code for f in findings} == {"GF-HEALTH-007", "GF-HEALTH-010"}
    assert all(f.node == "node-a" and f.gpu == 2 and f.fix for f in findings)


def test_001_collectors() -> None:
    runs = dict(HEALTHY.collectors)
    runs["ibstat"] = CollectorRun("ibstat", "ibstat", True, 127, "sh: ibstat: not found")
    runs["query_gpu"] = CollectorRun("query_gpu", "nvidia-smi", True, 9, "NVIDIA-SMI has failed")
    runs["nccl"] = CollectorRun("nccl", "all_reduce_perf", False)
    runs["dcgm"] = CollectorRun("dcgm", "dcgmi", True, 226)  # failed tests: judged by 021
    hits = found(replace(HEALTHY, collectors=runs), "GF-HEALTH-001")
    messages = " | ".join(h.message for h in hits)
    assert len(hits) == 3
    assert "`ibstat` is not installed" in messages and "sh: ibstat: not found" in messages
    assert "exit status 9: NVIDIA-SMI has failed" in messages
    assert "all_reduce_perf.txt was not collected" in messages
    assert (
        found(
            replace(HEALTHY, collectors=runs),
            "GF-HEALTH-001",
            replace(EXPECT, hca_count=0, nccl_min_busbw_gbps=None),
        )
        != []
    )  # query-gpu still failed


def test_002_003_count_and_model() -> None:
    assert len(found(replace(HEALTHY, gpus=HEALTHY.gpus[:7]), "GF-HEALTH-002")) == 1
    wrong = with_gpu(5, name="NVIDIA A100-SXM4-80GB")
    [hit] = found(wrong, "GF-HEALTH-003")
    assert hit.gpu == 5 and "A100" in hit.message
    assert (
        found(
            wrong,
            "GF-HEALTH-003",
            replace(EXPECT, gpu_model_smi_names=("NVIDIA H100 80GB HBM3", "nvidia a100-sxm4-80gb")),
        )
        == []
    )


def test_004_driver() -> None:
    packages = dict(HEALTHY.packages, **{"nvidia-driver-550-server": "550.54.15-0ubuntu1"})
    facts = replace(HEALTHY, packages=packages)
    assert found(facts, "GF-HEALTH-004") == []  # branch 550 accepts any 550 release
    hits = found(facts, "GF-HEALTH-004", replace(EXPECT, driver_version="550.90.07"))
    assert [h.message for h in hits] == [
        "package nvidia-driver-550-server is 550.54.15-0ubuntu1, the lock pins driver 550.90.07"
    ]
    running = found(HEALTHY, "GF-HEALTH-004", replace(EXPECT, driver_version="535"))
    assert any("running driver is 550.90.07" in h.message for h in running)
    bare = replace(HEALTHY, gpus=(), packages={"libc6": "2.36"})
    assert "no NVIDIA driver package" in found(bare, "GF-HEALTH-004")[0].message


def test_004_driver_package_of_nvidias_debian12_repository() -> None:
    """NVIDIA's Debian 12 repository names the metapackage without the branch."""
    debian = replace(HEALTHY, gpus=(), packages={"nvidia-driver": "580.82.07-1"})
    hits = found(debian, "GF-HEALTH-004", replace(EXPECT, driver_version="580.95.05"))
    assert [h.message for h in hits] == [
        "package nvidia-driver is 580.82.07-1, the lock pins driver 580.95.05"
    ]


def test_005_006_cuda_and_nccl() -> None:
    assert found(HEALTHY, "GF-HEALTH-005", replace(EXPECT, cuda_version="12.2"))[0].message == (
        "cuda-toolkit-12-2 is not installed (found cuda-toolkit-12-4), the lock pins CUDA 12.2"
    )
    packages = dict(HEALTHY.packages, libnccl2="2.18.3-1+cuda12.2")
    hits = found(replace(HEALTHY, packages=packages), "GF-HEALTH-006")
    assert len(hits) == 2 and "built for CUDA 12.2" in hits[1].message
    assert found(replace(HEALTHY, packages={"libc6": "1"}), "GF-HEALTH-006")[0].message.startswith(
        "libnccl2 is not installed"
    )


def test_028_cudnn() -> None:
    wants = replace(EXPECT, cuda_version="12.4", cudnn_version="9.1.0.70")
    missing = found(HEALTHY, "GF-HEALTH-028", wants)
    assert missing[0].message == (
        "libcudnn9-cuda-12 is not installed, the lock pins cuDNN 9.1.0.70"
    )
    packages = dict(HEALTHY.packages, **{"libcudnn9-cuda-12": "9.0.0.312-1"})
    stale = found(replace(HEALTHY, packages=packages), "GF-HEALTH-028", wants)
    assert stale[0].message == "libcudnn9-cuda-12 is 9.0.0.312-1, the lock pins cuDNN 9.1.0.70"
    packages["libcudnn9-cuda-12"] = "9.1.0.70-1"
    assert found(replace(HEALTHY, packages=packages), "GF-HEALTH-028", wants) == []
    assert found(HEALTHY, "GF-HEALTH-028") == []


def test_007_008_009_modes_and_power() -> None:
    assert found(with_gpu(3, persistence=False), "GF-HEALTH-007")[0].gpu == 3
    [power] = found(with_gpu(1, power_limit_w=400.0), "GF-HEALTH-008")
    assert "400 W, expected 700 W" in power.message
    assert (
        found(
            with_gpu(1, power_limit_w=400.0), "GF-HEALTH-008", replace(EXPECT, power_limit_w=None)
        )
        == []
    )
    [mode] = found(with_gpu(0, compute_mode="DEFAULT"), "GF-HEALTH-009")
    assert "DEFAULT, expected EXCLUSIVE_PROCESS" in mode.message


def test_010_011_014_ecc_remap_throttle() -> None:
    [ecc] = found(with_gpu(1, ecc_uncorrected_volatile=2), "GF-HEALTH-010")
    assert ecc.severity is Severity.ERROR and ecc.gpu == 1
    [remap] = found(with_gpu(4, remap_pending=True), "GF-HEALTH-011")
    assert remap.severity is Severity.WARNING
    throttled = with_gpu(6, throttle_reasons=("sw_power_cap", "hw_thermal_slowdown"))
    [hit] = found(throttled, "GF-HEALTH-014")
    assert hit.severity is Severity.WARNING and hit.message.endswith("hw_thermal_slowdown")
    assert found(with_gpu(6, throttle_reasons=("sw_power_cap",)), "GF-HEALTH-014") == []


def test_012_013_xids() -> None:
    log = (
        "[ 11.1] NVRM: Xid (PCI:0000:18:00): 79, pid=0, GPU has fallen off the bus.\n"
        "[ 12.1] NVRM: Xid (PCI:0000:db:00): 31, pid=4242, name=python, MMU Fault\n"
        "[ 12.2] NVRM: Xid (PCI:0000:db:00): 31, pid=4242, name=python, MMU Fault\n"
    )
    facts = replace(HEALTHY, xids=parse_xids(log).events)
    [fatal] = found(facts, "GF-HEALTH-012")
    assert fatal.gpu == 0 and "XID 79 (GPU has fallen off the bus)" in fatal.message
    [app] = found(facts, "GF-HEALTH-013")
    assert app.gpu == 7 and app.severity is Severity.WARNING and "pid 4242" in app.message
    real_log = parse_xids(real("xid/xid48-63-94-iso-timestamps-with-peermem.txt")).events
    hits = found(replace(HEALTHY, xids=real_log), "GF-HEALTH-012")
    assert [h.message.split(" (")[0] for h in hits] == ["XID 48", "XID 63", "XID 94"]
    assert {h.gpu for h in hits} == {None}  # PCI 19:00 is not one of this node's GPUs


def test_015_nvlink() -> None:
    dgx = parse_topo(real("topo/dgx1-v100-nv1nv2-mlx5cols-oldlegend.txt"))
    [hit] = found(replace(HEALTHY, topology=dgx), "GF-HEALTH-015")
    assert hit.message.startswith("28 GPU pair(s) not linked by NV18: GPU0-GPU1 NV1")
    text = real("topo/h100-8gpu-nv18-6nic-EMPTY-cpu-affinity-slurm-cgroup.txt")
    one_bad = parse_topo(
        text.replace("GPU3\tNV18\tNV18\tNV18\t X \tNV18", "GPU3\tNV18\tNV18\tNV18\t X \tSYS")
    )
    [pair] = found(replace(HEALTHY, topology=one_bad), "GF-HEALTH-015")
    assert pair.message == "1 GPU pair(s) not linked by NV18: GPU3-GPU4 SYS"
    assert (
        found(replace(HEALTHY, topology=dgx), "GF-HEALTH-015", replace(EXPECT, nvlink=None)) == []
    )


def test_016_to_019_hcas() -> None:
    assert len(found(HEALTHY, "GF-HEALTH-016", replace(EXPECT, hca_count=10))) == 1
    roce = replace(HEALTHY, hcas=parse_ibstat(real("ibstat/h100-cx7-400g-roce-some-down.txt")).hcas)
    roce_expect = replace(EXPECT, hca_count=12, hca_rate_gbps=400, hca_link_layer="Ethernet")
    down = found(roce, "GF-HEALTH-017", roce_expect)
    assert sorted(h.message for h in down) == [
        "mlx5_11 port 1 is Down / Polling",
        "mlx5_5 port 1 is Down / Disabled",
    ]
    assert "subnet manager" in next(h.fix for h in down if "Polling" in h.message)
    slow = found(roce, "GF-HEALTH-018", roce_expect)
    assert len(slow) == 4 and all("100 Gb/s, expected 400" in h.message for h in slow)
    assert len(found(HEALTHY, "GF-HEALTH-018", replace(EXPECT, hca_rate_gbps=400))) == 8
    # The healthy node's ninth, Ethernet HCA is a management port: ignored while 8 IB are there.
    assert found(HEALTHY, "GF-HEALTH-019") == []
    wrong = found(HEALTHY, "GF-HEALTH-019", replace(EXPECT, hca_link_layer="Ethernet"))
    assert len(wrong) == 8 and "uses link layer InfiniBand" in wrong[0].message


def test_020_mig() -> None:
    mig_expect = replace(EXPECT, mig_config={"1g.6gb": 2, "2g.12gb": 1})
    assert len(found(HEALTHY, "GF-HEALTH-020", mig_expect)) == 8  # MIG off everywhere
    a30 = parse_mig_instances(real("mig/a30-lgi-3instances-drv535.txt")).instances
    one = replace(HEALTHY, gpus=(replace(HEALTHY.gpus[0], mig_mode=True),), mig_instances=a30)
    assert found(one, "GF-HEALTH-020", replace(mig_expect, gpu_count=1)) == []
    fewer = replace(one, mig_instances=a30[:2])
    [hit] = found(fewer, "GF-HEALTH-020", mig_expect)
    assert hit.message == "GPU 0 has MIG instances 2x 1g.6gb, expected 2x 1g.6gb, 1x 2g.12gb"
    [stray] = found(
        replace(one, mig_instances=(MigInstance(0, "7g.80gb", 0, 0, 0, 8),)), "GF-HEALTH-020"
    )
    assert "enabled, the spec declares no MIG" in stray.message


def test_021_022_023_dcgm() -> None:
    h100 = parse_dcgmi_diag(
        real("dcgmi-diag/dcgm3.3.8-r3-failearly-8gpu-h100-cuinit-fail-drv560.txt")
    )
    [fail] = found(replace(HEALTHY, dcgm=h100), "GF-HEALTH-021")
    assert fail.message.startswith(
        "dcgmi diag test 'GPU Memory' (Hardware) failed on GPU 0, 1, 2, 3, 4, 5, 6, 7: GPU 0 Error"
    )
    old = parse_dcgmi_diag(real("dcgmi-diag/dcgm2.x-r1-deployment-only-blacklist-fail.txt"))
    assert len(found(replace(HEALTHY, dcgm=old), "GF-HEALTH-021")) == 5
    skipped = parse_dcgmi_diag(real("dcgmi-diag/dcgm4.4.2-r3-1gpu-2e12-all-skip-drv580.txt"))
    assert judge_node(replace(HEALTHY, dcgm=skipped), EXPECT) == []
    warned = DcgmDiag((DcgmTest("pcie", "Integration", "Warn", gpu_results={2: "Warn"}),))
    [warn] = found(replace(HEALTHY, dcgm=warned), "GF-HEALTH-022")
    assert warn.severity is Severity.WARNING and warn.gpu == 2
    empty = replace(HEALTHY, dcgm=parse_dcgmi_diag("Error: unable to connect to host engine\n"))
    assert len(found(empty, "GF-HEALTH-023")) == 1
    assert found(empty, "GF-HEALTH-023", replace(EXPECT, dcgm_level=0)) == []


def test_024_025_026_nccl() -> None:
    [slow] = found(HEALTHY, "GF-HEALTH-024", replace(EXPECT, nccl_min_busbw_gbps=400))
    assert "81.112 GB/s is below the minimum 400 GB/s (peak 235.21)" in slow.message
    bad = parse_nccl_tests(
        real("nccl-tests/gh200-2node-2rank-wrong-nonzero-out-of-bounds-FAILED.txt")
    )
    [data] = found(replace(HEALTHY, nccl=bad), "GF-HEALTH-025")
    assert "128 wrong element(s); 4 out-of-bounds value(s)" in data.message
    empty = replace(
        HEALTHY, nccl=parse_nccl_tests("NCCL failure common.cu:958 'unhandled system error'\n")
    )
    assert len(found(empty, "GF-HEALTH-026")) == 1


def test_027_parse_warnings_are_info() -> None:
    [hit] = found(replace(HEALTHY, parse_warnings=("a", "b", "c", "d")), "GF-HEALTH-027")
    assert hit.severity is Severity.INFO and hit.message.endswith("a; b; c (+1 more)")


@pytest.mark.parametrize(
    ("capture", "minimum", "codes"),
    [
        ("nccl-tests/h100-a3mega-2node-16gpu-mpi.txt", 60.0, []),
        ("nccl-tests/h100-a3mega-2node-16gpu-mpi.txt", 400.0, ["GF-HEALTH-030"]),
        (
            "nccl-tests/gh200-2node-2rank-wrong-nonzero-out-of-bounds-FAILED.txt",
            1.0,
            ["GF-HEALTH-031"],
        ),
    ],
)
def test_cluster_nccl(capture: str, minimum: float, codes: list[str]) -> None:
    findings = judge_cluster_nccl("training", parse_nccl_tests(real(capture)), minimum)
    assert [f.code for f in findings] == codes
    assert all(
        f.node == "pool/training" and "pool training (2 nodes)" in f.message for f in findings
    )
    assert [f.code for f in judge_cluster_nccl("training", parse_nccl_tests(""), 1.0)] == [
        "GF-HEALTH-032"
    ]
