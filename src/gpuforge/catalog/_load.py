"""Load the catalog's data files (YAML and the price CSVs) into typed, cached objects."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any, Literal

from ruamel.yaml import YAML

from gpuforge.catalog._models import (
    CudaFamily,
    CudaRelease,
    CudnnRelease,
    DriverBranch,
    DriverRelease,
    GpuModel,
    InstanceType,
    MigFamily,
    MigProfile,
    NcclRelease,
    OsRelease,
    RegionPrice,
)
from gpuforge.catalog._prices import PriceSnapshot, shipped_snapshot
from gpuforge.catalog._versions import Version

_CLOUDS: tuple[Literal["aws", "azure", "gcp"], ...] = ("aws", "azure", "gcp")
_ALIAS_KEY = re.compile(r"[\s_]+")


def _data(name: str) -> Any:
    text = resources.files("gpuforge.catalog").joinpath("data", name).read_text("utf-8")
    return YAML(typ="safe", pure=False).load(text)


def _alias_key(name: str) -> str:
    return _ALIAS_KEY.sub("-", name.strip()).upper()


def _v(text: object) -> Version:
    return Version.parse(str(text))


@dataclass
class Catalog:
    """Everything gpuforge knows offline; lookups by canonical name or alias."""

    sources: dict[str, str]
    gpus: dict[str, GpuModel]
    mig_layouts: dict[str, dict[str, dict[str, int]]]
    branches: dict[str, DriverBranch]
    drivers: list[DriverRelease]
    forward_compatible: dict[str, Version]
    open_modules_first_branch: int
    open_modules_default_branch: int
    open_modules_min_cc: Version
    cuda: list[CudaRelease]
    cuda_families: dict[int, CudaFamily]
    nccl: list[NcclRelease]
    nccl_min_for_arch: dict[str, Version]
    cudnn: list[CudnnRelease]
    container_toolkit: list[Version]
    dcgm: list[Version]
    other_packages: dict[str, list[Version]]
    os_releases: dict[str, OsRelease]
    prices: PriceSnapshot = field(default_factory=shipped_snapshot)
    _aliases: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for model in self.gpus.values():
            for name in (model.name, *model.aliases):
                self._aliases[_alias_key(name)] = model.name

    def resolve_gpu_name(self, name: str) -> str | None:
        """Return the canonical model name for a name or alias, or None when unknown."""
        return self._aliases.get(_alias_key(name))

    def gpu(self, name: str) -> GpuModel:
        """Return a GPU model by name or alias; raises KeyError naming the known models."""
        canonical = self.resolve_gpu_name(name)
        if canonical is None:
            raise KeyError(f"unknown GPU model {name!r}; known: {', '.join(self.gpus)}")
        return self.gpus[canonical]

    def branch_releases(self, branch: str) -> list[DriverRelease]:
        """Released versions of one driver branch, oldest first."""
        return [d for d in self.drivers if d.branch == branch]

    def cuda_release(self, minor: str) -> CudaRelease | None:
        """The newest catalogued patch release of a CUDA minor release such as "12.2"."""
        matches = [c for c in self.cuda if c.minor == minor]
        return matches[-1] if matches else None

    @cached_property
    def instances(self) -> dict[tuple[str, str], InstanceType]:
        """Cloud instance types keyed by (cloud, type), built from the price snapshot + specs."""
        return _load_instances(self.prices)

    def with_prices(self, prices: PriceSnapshot) -> Catalog:
        """This catalog with another price snapshot (instance table rebuilt from it)."""
        return dataclasses.replace(self, prices=prices)

    def instance(self, cloud: str, name: str) -> InstanceType | None:
        """One instance type, or None when the catalog does not know it."""
        return self.instances.get((cloud, name))

    def instances_for(self, cloud: str, gpu: str, count: int, region: str) -> list[InstanceType]:
        """Instance types with `count` x `gpu` offered in `region`, cheapest on-demand first."""
        found = [
            it
            for (c, _), it in self.instances.items()
            if c == cloud and it.gpu == gpu and it.gpus == count and region in it.regions
        ]

        def price(it: InstanceType) -> tuple[float, str]:
            offer = it.regions[region].on_demand
            return (offer if offer is not None else float("inf"), it.name)

        return sorted(found, key=price)


def _mig_families(raw: dict[str, Any]) -> dict[str, MigFamily]:
    families = {}
    for name, fam in raw.items():
        profiles = {
            pname: MigProfile(name=pname, **{**p, "starts": tuple(p["starts"])})
            for pname, p in fam["profiles"].items()
        }
        families[name] = MigFamily(
            name=name,
            compute_slices=fam["compute_slices"],
            memory_slices=fam["memory_slices"],
            profiles=profiles,
            sources=tuple(fam["sources"]),
        )
    return families


def _gpus(raw: dict[str, Any]) -> dict[str, GpuModel]:
    families = _mig_families(raw["mig_families"])
    gpus = {}
    for name, entry in raw["gpus"].items():
        fields = dict(entry)
        fields["mig"] = families[fields["mig"]] if fields.get("mig") else None
        for key in ("aliases", "sources", "unverified"):
            fields[key] = tuple(fields.get(key) or ())
        gpus[name] = GpuModel(name=name, **fields)
    return gpus


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Load and cache the whole catalog (the instance table loads lazily on first use)."""
    gpus_raw = _data("gpus.yaml")
    drivers_raw = _data("drivers.yaml")
    cuda_raw = _data("cuda.yaml")
    libs = _data("libraries.yaml")
    os_raw = _data("os.yaml")
    branches = {
        str(name): DriverBranch(
            name=str(name),
            type=b["type"],
            eol=b.get("eol"),
            sources=tuple(b["sources"]),
            unverified=tuple(b.get("unverified") or ()),
        )
        for name, b in drivers_raw["branches"].items()
    }
    drivers = sorted(
        (
            DriverRelease(version=_v(d["version"]), sources=tuple(d["sources"]))
            for d in drivers_raw["releases"]
        ),
        key=lambda d: d.version,
    )
    families = {
        int(major): CudaFamily(
            major=int(major),
            family_min_driver=_v(f["family_min_driver"]),
            family_max_branch_exclusive=f.get("family_max_branch_exclusive"),
            min_compute_capability=_v(cuda_raw["min_compute_capability"][str(major)]),
        )
        for major, f in cuda_raw["families"].items()
    }
    cuda = sorted(
        (
            CudaRelease(version=_v(c["version"]), min_driver=_v(c["min_driver"]))
            for c in cuda_raw["releases"]
        ),
        key=lambda c: c.version,
    )
    nccl = sorted(
        (
            NcclRelease(
                version=_v(n["version"]),
                cuda=tuple(str(c) for c in n["cuda"]),
                unverified=bool(n.get("unverified", False)),
            )
            for n in libs["nccl"]["releases"]
        ),
        key=lambda n: n.version,
    )
    cudnn = [
        CudnnRelease(
            version=_v(c["version"]),
            cuda_major=int(c["cuda_major"]),
            cuda_min=_v(c["cuda_min"]),
            cuda_max=_v(c["cuda_max"]),
            min_driver=_v(c["min_driver"]),
            min_cc=_v(c["min_cc"]),
            max_cc=_v(c["max_cc"]),
            blackwell_min_cuda=_v(c["blackwell_min_cuda"]) if c.get("blackwell_min_cuda") else None,
            unverified=bool(c.get("unverified", False)),
        )
        for c in libs["cudnn"]["releases"]
    ]
    open_mod = drivers_raw["open_modules"]
    return Catalog(
        sources={str(k): str(v) for k, v in _data("sources.yaml")["sources"].items()},
        gpus=_gpus(gpus_raw),
        mig_layouts=gpus_raw["mig_layouts"],
        branches=branches,
        drivers=drivers,
        forward_compatible={str(k): _v(v) for k, v in drivers_raw["forward_compatible"].items()},
        open_modules_first_branch=int(open_mod["first_branch"]),
        open_modules_default_branch=int(open_mod["default_from_branch"]),
        open_modules_min_cc=_v(open_mod["min_compute_capability"]),
        cuda=cuda,
        cuda_families=families,
        nccl=nccl,
        nccl_min_for_arch={k: _v(v) for k, v in libs["nccl"]["min_version_for_arch"].items()},
        cudnn=cudnn,
        container_toolkit=[_v(v) for v in libs["container_toolkit"]["releases"]],
        dcgm=[_v(v) for v in libs["dcgm"]["releases"]],
        other_packages={
            key: [_v(v) for v in libs[key]["releases"]]
            for key in ("node_exporter", "nccl_tests", "mig_manager")
        },
        os_releases={
            name: OsRelease(
                name=name,
                **{
                    **o,
                    "sources": tuple(o["sources"]),
                    "unverified": tuple(o.get("unverified") or ()),
                },
            )
            for name, o in os_raw["os"].items()
        },
    )


def _price(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 else None


def _cheapest(current: float | None, new: float | None) -> float | None:
    if new is None:
        return current
    return new if current is None else min(current, new)


@dataclass
class _Offer:
    gpu_label: str = ""
    gpus: int = 0
    vcpus: float | None = None
    memory_gib: float | None = None
    regions: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def add_price(self, region: str, on_demand: float | None, spot: float | None) -> None:
        old = self.regions.get(region, (None, None))
        self.regions[region] = (_cheapest(old[0], on_demand), _cheapest(old[1], spot))


def _offers(cloud: str, specs: dict[str, Any], prices: PriceSnapshot) -> dict[str, _Offer]:
    offers: dict[str, _Offer] = {}
    rows = prices.cloud_rows(cloud)
    gcp_gpu_prices: dict[tuple[str, str], tuple[float | None, float | None]] = {}
    if cloud == "gcp":
        for row in rows:
            if not row["InstanceType"]:
                zone_key = (row["AvailabilityZone"], row["AcceleratorName"])
                count = float(row["AcceleratorCount"] or 1)
                od, spot = _price(row["Price"]), _price(row["SpotPrice"])
                gcp_gpu_prices[zone_key] = (
                    od / count if od else None,
                    spot / count if spot else None,
                )
    for row in rows:
        name = row["InstanceType"]
        if not name:
            continue
        offer = offers.setdefault(name, _Offer())
        offer.gpu_label = row.get("AcceleratorName") or offer.gpu_label
        offer.gpus = int(float(row.get("AcceleratorCount") or 0)) or offer.gpus
        offer.vcpus = _price(row["vCPUs"])
        offer.memory_gib = _price(row["MemoryGiB"])
        offer.add_price(row["Region"], _price(row["Price"]), _price(row["SpotPrice"]))
    if cloud == "gcp":
        _add_gcp_accelerator_prices(offers, rows, gcp_gpu_prices, specs)
    return offers


def _add_gcp_accelerator_prices(
    offers: dict[str, _Offer],
    rows: list[dict[str, str]],
    gpu_prices: dict[tuple[str, str], tuple[float | None, float | None]],
    specs: dict[str, Any],
) -> None:
    """GCP prices the GPUs of a2/a3/g2 machines in separate rows: add them per zone."""
    names: dict[str, str] = specs["price_accelerator_names"]
    by_canonical: dict[str, str] = {}
    for label, canonical in names.items():
        by_canonical.setdefault(canonical, label)  # H100, not H100-MEGA, for plain a3 machines
    for name, offer in offers.items():
        spec = specs["gcp"].get(name)
        if not spec:
            continue
        offer.regions = {}
        label = by_canonical.get(spec["gpu"], spec["gpu"])
        labels = (label, "H100-MEGA") if name.startswith("a3-mega") else (label,)
        for row in rows:
            if row["InstanceType"] != name:
                continue
            gpu = next(
                (
                    gpu_prices[(row["AvailabilityZone"], lab)]
                    for lab in labels[::-1]
                    if (row["AvailabilityZone"], lab) in gpu_prices
                ),
                None,
            )
            if gpu is None:
                continue
            od = _price(row["Price"])
            spot = _price(row["SpotPrice"])
            total_od = od + gpu[0] * spec["gpus"] if od and gpu[0] else None
            total_spot = spot + gpu[1] * spec["gpus"] if spot and gpu[1] else None
            offer.add_price(row["Region"], total_od, total_spot)


def _load_instances(prices: PriceSnapshot) -> dict[tuple[str, str], InstanceType]:
    specs = _data("instances.yaml")
    names: dict[str, str] = specs["price_accelerator_names"]
    result: dict[tuple[str, str], InstanceType] = {}
    for cloud in _CLOUDS:
        offers = _offers(cloud, specs, prices)
        cloud_specs: dict[str, Any] = specs.get(cloud, {})
        for name in sorted(set(offers) | set(cloud_specs)):
            offer = offers.get(name, _Offer())
            spec = cloud_specs.get(name, {})
            regions = {
                region: RegionPrice(region=region, on_demand=od, spot=spot)
                for region, (od, spot) in sorted(offer.regions.items())
            }
            for region in spec.get("regions", []):
                regions.setdefault(region, RegionPrice(region=region, on_demand=None, spot=None))
            label = offer.gpu_label or spec.get("gpu", "")
            result[(cloud, name)] = InstanceType(
                cloud=cloud,
                name=name,
                gpu=spec.get("gpu") or names.get(label),
                gpu_label=label,
                gpus=int(spec.get("gpus") or offer.gpus),
                vcpus=offer.vcpus,
                memory_gib=offer.memory_gib,
                network_gbps=spec.get("network_gbps"),
                efa=int(spec.get("efa", 0)),
                infiniband=spec.get("infiniband"),
                nvme_gb=int(spec.get("nvme_gb", 0)),
                placement=bool(spec.get("placement", True)),
                regions=regions,
                sources=(*spec.get("sources", ()), "SKY"),
            )
    return result
