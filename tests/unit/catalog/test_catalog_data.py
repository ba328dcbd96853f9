"""The catalog's data files load, cite sources that exist, and agree with NVIDIA's tables
(shared/reference/gpu-stack-facts.md sections 1-5)."""

from __future__ import annotations

from datetime import date

import pytest

from gpuforge.catalog import Catalog, GpuModel, Version, load_catalog

CANONICAL_GPUS = [
    "V100",
    "T4",
    "A10G",
    "A100-40GB",
    "A100-80GB",
    "A30",
    "L4",
    "L40S",
    "H100",
    "H100-PCIe",
    "H100-NVL",
    "H200",
    "GH200",
    "B200",
    "MI300X",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_catalog_is_loaded_once() -> None:
    assert load_catalog() is load_catalog()


def test_every_canonical_gpu_is_known(catalog: Catalog) -> None:
    assert set(CANONICAL_GPUS) <= set(catalog.gpus)


def test_every_entry_cites_known_sources(catalog: Catalog) -> None:
    known = set(catalog.sources)
    cited: dict[str, tuple[str, ...]] = {}
    for gpu in catalog.gpus.values():
        cited[f"gpu {gpu.name}"] = gpu.sources
        if gpu.mig is not None:
            cited[f"mig {gpu.mig.name}"] = gpu.mig.sources
    for branch in catalog.branches.values():
        cited[f"branch {branch.name}"] = branch.sources
    for release in catalog.drivers:
        cited[f"driver {release.version}"] = release.sources
    for os_release in catalog.os_releases.values():
        cited[f"os {os_release.name}"] = os_release.sources
    for (cloud, name), instance in catalog.instances.items():
        cited[f"{cloud} {name}"] = instance.sources

    for entry, sources in cited.items():
        assert sources, f"{entry} cites no source"
        assert set(sources) <= known, f"{entry} cites unknown {set(sources) - known}"
    assert all(text.strip() for text in catalog.sources.values())


@pytest.mark.parametrize("name", CANONICAL_GPUS)
def test_unverified_marks_name_real_fields(catalog: Catalog, name: str) -> None:
    gpu = catalog.gpus[name]

    assert set(gpu.unverified) <= set(GpuModel.model_fields)


def test_mig_families_are_consistent(catalog: Catalog) -> None:
    families = {gpu.mig.name: gpu.mig for gpu in catalog.gpus.values() if gpu.mig is not None}

    assert set(families) == {
        "a100-40gb",
        "gpu-80gb",
        "h100-nvl-94gb",
        "h200-141gb",
        "b200-180gb",
        "a30-24gb",
        "gh200-96gb",
    }
    for family in families.values():
        ids = [p.id for p in family.profiles.values()]
        assert len(ids) == len(set(ids)), f"{family.name}: profile ids repeat"
        for name, profile in family.profiles.items():
            assert name == profile.name
            assert name.startswith(f"{profile.compute}g.")
            assert profile.starts, f"{family.name} {name} has no placement"
            for start in profile.starts:
                assert start >= 0 and start + profile.size <= family.memory_slices, (
                    f"{family.name} {name} placement {start}:{profile.size} leaves the GPU"
                )
            assert profile.compute * profile.max <= family.compute_slices
            assert profile.max <= len(profile.starts)


def test_mig_profile_ids_match_nvidia(catalog: Catalog) -> None:
    # facts section 5: 1g=19, 1g+me=20, 1g-double=15, 2g=14, 3g=9, 4g=5, 7g=0 on 7-slice GPUs
    family = catalog.gpus["H100"].mig
    assert family is not None
    ids = {name: p.id for name, p in family.profiles.items()}

    assert ids == {
        "1g.10gb": 19,
        "1g.10gb+me": 20,
        "1g.20gb": 15,
        "2g.20gb": 14,
        "3g.40gb": 9,
        "4g.40gb": 5,
        "7g.80gb": 0,
    }
    nvl = catalog.gpus["H100-NVL"].mig
    assert nvl is not None
    # facts section 5, -lgipp on H100 NVL: 19 {0..6}:1; 15 {0,2,4,6}:2; 14 {0,2,4}:2;
    # 9 {0,4}:4; 5 {0}:4; 0 {0}:8
    placements = {p.id: (p.starts, p.size) for p in nvl.profiles.values()}
    assert placements[19] == ((0, 1, 2, 3, 4, 5, 6), 1)
    assert placements[15] == ((0, 2, 4, 6), 2)
    assert placements[14] == ((0, 2, 4), 2)
    assert placements[9] == ((0, 4), 4)
    assert placements[5] == ((0,), 4)
    assert placements[0] == ((0,), 8)


@pytest.mark.parametrize(
    ("gpu", "family"),
    [
        ("A100-40GB", "a100-40gb"),
        ("A100-80GB", "gpu-80gb"),
        ("H100", "gpu-80gb"),
        ("H100-PCIe", "gpu-80gb"),
        ("H100-NVL", "h100-nvl-94gb"),
        ("H200", "h200-141gb"),
        ("B200", "b200-180gb"),
        ("A30", "a30-24gb"),
        ("V100", None),
        ("T4", None),
        ("L4", None),
        ("L40S", None),
        ("A10G", None),
        ("MI300X", None),
    ],
)
def test_mig_family_per_gpu(catalog: Catalog, gpu: str, family: str | None) -> None:
    mig = catalog.gpus[gpu].mig

    assert (mig.name if mig else None) == family


def test_named_mig_layouts_use_profiles_of_their_family(catalog: Catalog) -> None:
    families = {gpu.mig.name: gpu.mig for gpu in catalog.gpus.values() if gpu.mig is not None}

    assert {"all-1g", "all-2g", "all-3g", "all-7g", "all-balanced"} <= set(catalog.mig_layouts)
    for layout, per_family in catalog.mig_layouts.items():
        for family_name, counts in per_family.items():
            profiles = families[family_name].profiles
            assert set(counts) <= set(profiles), f"{layout} on {family_name}"
            assert all(count >= 1 for count in counts.values())


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("H100", "H100"),
        ("h100", "H100"),
        ("H100-SXM5", "H100"),
        ("h100 sxm", "H100"),
        ("H100_80GB", "H100"),
        ("A100", "A100-40GB"),
        ("a100-80g", "A100-80GB"),
        ("Tesla-V100", "V100"),
        ("V100-SXM2-32GB", "V100-32GB"),
        ("H100-PCIE", "H100-PCIe"),
        ("H100NVL", "H100-NVL"),
        ("MI300", "MI300X"),
        ("GH200-480GB", "GH200"),
        ("B200-180GB", "B200"),
    ],
)
def test_aliases_resolve(catalog: Catalog, alias: str, canonical: str) -> None:
    assert catalog.resolve_gpu_name(alias) == canonical
    assert catalog.gpu(alias).name == canonical


def test_unknown_gpu_names(catalog: Catalog) -> None:
    assert catalog.resolve_gpu_name("H1000") is None
    with pytest.raises(KeyError, match="unknown GPU model 'K80'"):
        catalog.gpu("K80")


def test_no_alias_names_two_models(catalog: Catalog) -> None:
    owners: dict[str, set[str]] = {}
    for gpu in catalog.gpus.values():
        for name in (gpu.name, *gpu.aliases):
            owners.setdefault(name.upper().replace("_", "-"), set()).add(gpu.name)

    assert {name: models for name, models in owners.items() if len(models) > 1} == {}


@pytest.mark.parametrize(
    ("gpu", "cc", "min_cuda", "power", "open_modules"),
    [
        # facts section 2, architecture and product tables
        ("V100", "7.0", "9.0", (300, 150, 300), "unsupported"),
        ("T4", "7.5", "10.0", (70, 60, 70), "supported"),
        ("A100-40GB", "8.0", "11.0", (400, 100, 400), "supported"),
        ("A100-80GB", "8.0", "11.0", (400, 100, 400), "supported"),
        ("L4", "8.9", "11.8", (72, 40, 72), "supported"),
        ("H100", "9.0", "11.8", (700, 200, 700), "supported"),
        ("H200", "9.0", "11.8", (700, 200, 700), "supported"),
        ("GH200", "9.0", "12.0", (900, 100, 900), "required"),
        ("B200", "10.0", "12.8", (1000, 200, 1000), "required"),
    ],
)
def test_gpu_facts(
    catalog: Catalog,
    gpu: str,
    cc: str,
    min_cuda: str,
    power: tuple[float, float, float],
    open_modules: str,
) -> None:
    model = catalog.gpus[gpu]

    assert model.compute_capability == cc
    assert model.cc_version == Version.parse(cc)
    assert model.min_cuda == min_cuda
    assert (model.power.default, model.power.min, model.power.max) == power
    assert model.open_modules == open_modules
    assert model.power.min <= model.power.default <= model.power.max


def test_volta_limits_and_amd_part(catalog: Catalog) -> None:
    v100 = catalog.gpus["V100"]
    mi300x = catalog.gpus["MI300X"]

    # facts section 2: Volta's last toolkit is 12.x and its last driver R580
    assert (v100.max_cuda_major, v100.last_driver_branch) == (12, "580")
    assert mi300x.vendor == "amd" and mi300x.cc_version is None and mi300x.min_cuda is None


# facts section 1, CUDA-RN Table 3: every update (GA = X.Y.0) with its own driver floor
CUDA_FLOORS = {
    "11.0.2": "450.51.05",
    "11.0.3": "450.51.06",
    "11.1.0": "455.23",
    "11.1.1": "455.32",
    "11.2.0": "460.27.03",
    "11.2.1": "460.32.03",
    "11.2.2": "460.32.03",
    "11.3.1": "465.19.01",
    "11.4.0": "470.42.01",
    "11.4.1": "470.57.02",
    "11.4.2": "470.57.02",
    "11.4.3": "470.82.01",
    "11.4.4": "470.82.01",
    "11.5.2": "495.29.05",
    "11.6.0": "510.39.01",
    "11.6.1": "510.47.03",
    "11.6.2": "510.47.03",
    "11.7.0": "515.43.04",
    "11.7.1": "515.48.07",
    "11.8.0": "520.61.05",
    "12.0.0": "525.60.13",
    "12.0.1": "525.85.12",
    "12.1.0": "530.30.02",
    "12.1.1": "530.30.02",
    "12.2.0": "535.54.03",
    "12.2.1": "535.86.09",
    "12.2.2": "535.104.05",
    "12.3.0": "545.23.06",
    "12.3.1": "545.23.08",
    "12.3.2": "545.23.08",
    "12.4.0": "550.54.14",
    "12.4.1": "550.54.15",
    "12.5.0": "555.42.02",
    "12.5.1": "555.42.06",
    "12.6.0": "560.28.03",
    "12.6.1": "560.35.03",
    "12.6.2": "560.35.03",
    "12.6.3": "560.35.05",
    "12.8.0": "570.26",
    "12.8.1": "570.124.06",
    "12.9.0": "575.51.03",
    "12.9.1": "575.57.08",
    "13.0.0": "580.65.06",
    "13.0.1": "580.82.07",
    "13.0.2": "580.95.05",
    "13.1.0": "590.44.01",
    "13.1.1": "590.48.01",
    "13.2.0": "595.45.04",
    "13.2.1": "595.58.03",
    "13.2.2": "595.71.05",
}


def test_cuda_driver_floors_match_the_release_notes(catalog: Catalog) -> None:
    assert {str(c.version): str(c.min_driver) for c in catalog.cuda} == CUDA_FLOORS
    assert catalog.cuda_release("12.7") is None  # there is no CUDA 12.7
    release = catalog.cuda_release("12.2")
    assert release is not None and str(release.version) == "12.2.2"


def test_cuda_families(catalog: Catalog) -> None:
    # facts section 1, CUDA-RN Table 2 and ARCH
    families = {
        major: (str(f.family_min_driver), f.family_max_branch_exclusive)
        for major, f in catalog.cuda_families.items()
    }

    assert families == {
        11: ("450.80.02", "525"),
        12: ("525.60.13", "580"),
        13: ("580.65.06", None),
    }
    assert catalog.cuda_families[13].min_compute_capability == Version.parse("7.5")


@pytest.mark.parametrize(
    ("branch", "kind", "eol"),
    [
        ("450", "LTSB", date(2023, 7, 31)),
        ("535", "LTSB", date(2026, 6, 30)),
        ("550", "PB", None),
        ("570", "PB", None),
        ("580", "LTSB", date(2028, 6, 30)),
        ("595", "PB", date(2027, 3, 31)),
        ("610", "NFB", date(2026, 8, 31)),
        ("620", "LTSB", date(2029, 9, 30)),
    ],
)
def test_driver_branches(catalog: Catalog, branch: str, kind: str, eol: date | None) -> None:
    # facts section 2, DCDRV
    info = catalog.branches[branch]

    assert (info.type, info.eol) == (kind, eol)


def test_driver_releases_are_sorted_and_belong_to_known_branches(catalog: Catalog) -> None:
    versions = [d.version for d in catalog.drivers]

    assert versions == sorted(versions)
    assert {d.branch for d in catalog.drivers} <= set(catalog.branches)
    assert [str(d.version) for d in catalog.branch_releases("535")] == [
        "535.54.03",
        "535.104.05",
        "535.129.03",
        "535.183.01",
    ]


def test_open_modules_and_forward_compatibility(catalog: Catalog) -> None:
    # facts section 3 (KMOD) and section 1 (forward-compatible base branches)
    assert (catalog.open_modules_first_branch, catalog.open_modules_default_branch) == (515, 560)
    assert catalog.open_modules_min_cc == Version.parse("7.5")
    assert {k: str(v) for k, v in catalog.forward_compatible.items()} == {
        "470": "470.57.02",
        "525": "525.85.12",
        "535": "535.86.09",
        "550": "550.54.14",
    }


def test_nccl_builds(catalog: Catalog) -> None:
    # facts section 4
    builds = {str(n.version): n.cuda for n in catalog.nccl}

    assert builds["2.18.3"] == ("11.0", "12.0", "12.1", "12.2")
    assert builds["2.18.5"] == ("11.0", "12.0", "12.2")
    assert builds["2.19.3"] == ("11.0", "12.0", "12.2", "12.3")
    assert "13.0" in builds["2.30.3"] and "12.9" in builds["2.30.3"]
    assert catalog.nccl_min_for_arch == {"Blackwell": Version.parse("2.25.1")}


def test_cudnn_builds(catalog: Catalog) -> None:
    # facts section 4: 9.17.0 CUDA 13 build serves 13.0-13.1 from 580.65.06, CC 7.5-12.0
    cuda13 = [c for c in catalog.cudnn if c.cuda_major == 13]

    assert len(cuda13) == 1
    build = cuda13[0]
    assert (str(build.cuda_min), str(build.cuda_max), str(build.min_driver)) == (
        "13.0",
        "13.1",
        "580.65.06",
    )
    assert (str(build.min_cc), str(build.max_cc)) == ("7.5", "12.0")
    cuda12 = [c for c in catalog.cudnn if c.cuda_major == 12]
    assert all(c.blackwell_min_cuda == Version.parse("12.8") for c in cuda12)


def test_os_releases(catalog: Catalog) -> None:
    names = set(catalog.os_releases)

    assert {"ubuntu-22.04", "ubuntu-24.04", "debian-12", "rhel-9"} <= names
    noble = catalog.os_releases["ubuntu-24.04"]
    # facts section 3: precompiled drivers for 24.04 (kernel 6.8) start at R550
    assert (noble.kernel, noble.min_driver_branch, noble.codename) == ("6.8", "550", "noble")
    for release in catalog.os_releases.values():
        assert int(release.min_driver_branch) >= 450
        assert catalog.cuda_release(release.min_cuda) is not None
