"""Every optional section of the spec gets its default; pools inherit the cluster settings."""

from __future__ import annotations

from collections.abc import Callable

from gpuforge.spec import SpecDocument, TargetRef

Load = Callable[[str], SpecDocument]


def test_minimal_spec_fills_every_section(load: Load, minimal: str) -> None:
    spec = load(minimal).spec

    assert spec.api_version == "gpuforge/v1"
    assert spec.kind == "Cluster"
    assert spec.target == [TargetRef("local")]
    assert spec.state.model_dump(exclude_none=True) == {"backend": "local"}
    assert spec.fabric.model_dump() == {
        "type": "ethernet",
        "topology": "fat-tree",
        "switches": 0,
        "port_speed_gbps": None,
        "roce": {"pfc_priority": 3, "ecn": True, "dscp": 26, "cnp_priority": 6},
    }
    assert spec.software.model_dump() == {
        "os": "ubuntu-22.04",
        "kernel": "auto",
        "driver": "auto",
        "driver_modules": "auto",
        "cuda": "auto",
        "cudnn": "auto",
        "nccl": "auto",
        "container_toolkit": "auto",
        "dcgm": "auto",
        "repository": "auto",
        "repository_url": None,
    }
    assert spec.gpu.model_dump() == {
        "persistence_mode": True,
        "power_limit_w": None,
        "compute_mode": "DEFAULT",
        "clocks": None,
        "mig": None,
        "mps": {"enabled": False, "active_thread_percentage": None, "user": None, "group": None},
    }
    assert spec.validation.model_dump() == {
        "dcgm_level": 1,
        "nccl": True,
        "nccl_min_busbw_gbps": None,
        "skip": [],
        "allowed_processes": [],
    }
    assert spec.rollout.model_dump() == {
        "canary": 1,
        "batch": 0.25,
        "max_unavailable": 1,
        "auto_rollback": True,
        "max_failures": 0,
        "reboot": True,
        "drain_command": [],
        "undrain_command": [],
        "drain_timeout_s": 3600,
    }
    assert spec.security.model_dump() == {
        "ssh_cidrs": [],
        "public_ip": False,
        "ssh_public_key": None,
        "hardening": True,
        "gpu_group": None,
        "gpu_users": [],
        "gpu_allowed_processes": [],
        "gpu_allowed_users": [],
        "known_hosts": None,
    }
    assert spec.monitoring.model_dump() == {
        "enabled": True,
        "dcgm_exporter": True,
        "node_exporter": True,
        "scrape_cidrs": [],
    }
    assert spec.cost.model_dump() == {
        "budget_usd_per_hour": None,
        "prefer_cheapest_region": False,
        "schedule": [],
        "optimize": {
            "clouds": [],
            "regions": [],
            "max_spot_share": None,
            "min_regions": 1,
            "pools": {},
        },
        "spot": {"checkpoint_command": [], "checkpoint_timeout_s": 90},
    }
    assert spec.checks.skip == []


def test_pool_defaults(load: Load, minimal: str) -> None:
    pool = load(minimal).spec.pools["train"]

    assert (pool.count, pool.market, pool.placement_group) == (1, "on-demand", None)
    assert (pool.instance_type, pool.target, pool.zone, pool.profile) == (None, None, None, None)
    assert pool.network.model_dump() == {"efa": False, "public_ip": None}
    assert pool.storage.model_dump() == {
        "root_gb": 200,
        "scratch_gb": 0,
        "iops": None,
        "throughput_mbps": None,
    }
    assert pool.software.model_dump(exclude_none=True) == {}
    assert pool.labels == {}


def test_pool_inherits_cluster_software_and_gpu_settings(load: Load, minimal: str) -> None:
    spec = load(
        minimal
        + "    software: {cuda: '12.8'}\n"
        + "  infer:\n"
        + "    gpu: {model: L4, count: 1, power_limit_w: 60}\n"
        + "software: {driver: '580', cuda: '12.9'}\n"
        + "gpu: {power_limit_w: 650, compute_mode: EXCLUSIVE_PROCESS}\n"
    ).spec
    train, infer = spec.pools["train"], spec.pools["infer"]

    assert (spec.pool_software(train).driver, spec.pool_software(train).cuda) == ("580", "12.8")
    assert (spec.pool_software(infer).driver, spec.pool_software(infer).cuda) == ("580", "12.9")
    assert spec.pool_gpu_settings(train).power_limit_w == 650
    assert spec.pool_gpu_settings(infer).power_limit_w == 60
    assert spec.pool_gpu_settings(infer).compute_mode == "EXCLUSIVE_PROCESS"


def test_pool_target_falls_back_to_the_first_cluster_target(load: Load, minimal: str) -> None:
    text = minimal.replace("target: local", "target: [aws/us-east-1, azure/eastus]")
    spec = load(text + "  other:\n    gpu: A100:8\n    target: azure/eastus\n").spec

    assert spec.pool_target(spec.pools["train"]) == TargetRef("aws", "us-east-1")
    assert spec.pool_target(spec.pools["other"]) == TargetRef("azure", "eastus")
