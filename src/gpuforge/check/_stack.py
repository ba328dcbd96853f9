"""The stack solver: resolve driver/CUDA/cuDNN/NCCL/toolkit/DCGM for one pool, or explain why not.

The solver narrows each component's candidates by the pool's requirements, the GPU and the OS,
then picks the newest compatible combination: newest driver of a supported production branch
(LTSB/PB before NFB, end-of-life last), newest CUDA that driver fully supports, then the newest
NCCL and cuDNN built for that CUDA. Every elimination that empties a candidate set becomes a
`Conflict` with the finding code of the rule that explains it.

Candidates come from the catalog, or, given a repository index, from the versions the repository
offers; either way each is judged by the version model (catalog/_judge.py), so a version the
catalog does not list is accepted by its branch or series with an info notice (GF-STACK-014).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from gpuforge.catalog import (
    Catalog,
    CudaRelease,
    CudnnRelease,
    DriverRelease,
    GpuModel,
    NcclRelease,
    Requirement,
    Version,
    driver_packages,
    judge_cuda,
    judge_cudnn,
    judge_driver,
    judge_nccl,
    parse_requirement,
)
from gpuforge.check._repo import RepoIndex
from gpuforge.spec import SoftwareSpec

_CTK = "nvidia-container-toolkit"
_DCGM = "datacenter-gpu-manager"
UNCATALOGUED = "GF-STACK-014"
NOT_OFFERED = "GF-STACK-015"


@dataclass(frozen=True)
class Conflict:
    """Why no stack exists: the finding code, the spec field at fault, a message and a fix."""

    code: str
    field: str
    message: str
    fix: str


@dataclass(frozen=True)
class ResolvedStack:
    """Exact versions for one pool, with the reason for each choice."""

    os: str
    driver: str
    driver_branch: str
    driver_modules: str
    cuda: str
    cudnn: str | None
    nccl: str
    container_toolkit: str
    dcgm: str
    reasons: dict[str, str]
    minor_version_compat: bool = False


@dataclass
class StackResult:
    """The outcome for one pool: a stack, or the conflicts that prevent one; plus notes."""

    stack: ResolvedStack | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    notices: list[Conflict] = field(default_factory=list)


def _tier(catalog: Catalog, release: DriverRelease, as_of: date) -> int:
    branch = catalog.branches.get(release.branch)
    if branch is None:
        return 3
    if branch.eol is not None and branch.eol < as_of:
        return 2
    return 1 if branch.type == "NFB" else 0


def is_eol(catalog: Catalog, branch: str, as_of: date) -> bool:
    """True when the catalog knows the branch ended support before `as_of`."""
    info = catalog.branches.get(branch)
    return bool(info and info.eol and info.eol < as_of)


def gpu_min_driver(catalog: Catalog, gpu: GpuModel) -> Version | None:
    """The first driver that supports a GPU: the floor of its first CUDA release, if known."""
    if not gpu.min_cuda:
        return None
    first = catalog.cuda_release(gpu.min_cuda)
    return first.min_driver if first else None


def _cuda_supports_gpu(catalog: Catalog, cuda: CudaRelease, gpu: GpuModel) -> bool:
    cc = gpu.cc_version
    family = catalog.cuda_families.get(cuda.version.major)
    if cc is None or family is None:
        return False
    if cc < family.min_compute_capability:
        return False
    if gpu.max_cuda_major is not None and cuda.version.major > gpu.max_cuda_major:
        return False
    return not (gpu.min_cuda and cuda.version < Version.parse(gpu.min_cuda))


def _driver_supports_gpu(catalog: Catalog, driver: DriverRelease, gpu: GpuModel) -> bool:
    floor = gpu_min_driver(catalog, gpu)
    if floor is not None and driver.version < floor:
        return False
    return not (gpu.last_driver_branch and driver.version.major > int(gpu.last_driver_branch))


def minor_compatible(catalog: Catalog, driver: Version, cuda: CudaRelease) -> bool:
    """True when `driver` runs `cuda` only through minor-version compatibility (reduced)."""
    family = catalog.cuda_families.get(cuda.version.major)
    if family is None or driver >= cuda.min_driver or driver < family.family_min_driver:
        return False
    ceiling = family.family_max_branch_exclusive
    return ceiling is None or driver.major < int(ceiling)


def _nccl_fits(release: NcclRelease, cuda: CudaRelease, gpu: GpuModel, catalog: Catalog) -> bool:
    floor = catalog.nccl_min_for_arch.get(gpu.architecture)
    if floor is not None and release.version < floor:
        return False
    return nccl_build_for(release, cuda) is not None


def nccl_build_for(release: NcclRelease, cuda: CudaRelease) -> str | None:
    """The CUDA build of an NCCL release to install with `cuda`: same minor, else the newest
    older build of the same major (runs through minor-version compatibility)."""
    if cuda.minor in release.cuda:
        return cuda.minor
    same_major = [
        Version.parse(b) for b in release.cuda if Version.parse(b).major == cuda.version.major
    ]
    older = [b for b in same_major if b <= cuda.version]
    return str(max(older)) if older else None


def _cudnn_fits(release: CudnnRelease, cuda: CudaRelease, gpu: GpuModel, driver: Version) -> bool:
    cc = gpu.cc_version
    if cc is None or release.cuda_major != cuda.version.major:
        return False
    minor = Version.parse(cuda.minor)
    if not release.cuda_min <= minor <= release.cuda_max or driver < release.min_driver:
        return False
    if not release.min_cc <= cc <= release.max_cc:
        return False
    if gpu.architecture == "Blackwell" and release.blackwell_min_cuda:
        return minor >= release.blackwell_min_cuda
    return True


def _choose_modules(
    catalog: Catalog, wanted: str, gpu: GpuModel, driver: DriverRelease
) -> str | Conflict:
    branch = driver.version.major
    open_possible = (
        gpu.open_modules != "unsupported" and branch >= catalog.open_modules_first_branch
    )
    if wanted == "open" and not open_possible:
        why = (
            f"{gpu.name} ({gpu.architecture}) cannot run them"
            if gpu.open_modules == "unsupported"
            else f"they exist only from R{catalog.open_modules_first_branch}"
        )
        return Conflict(
            "GF-STACK-005",
            "software.driver_modules",
            f"open kernel modules requested but {why}",
            "set driver_modules: proprietary (or auto)",
        )
    if wanted == "proprietary" and gpu.open_modules == "required":
        return Conflict(
            "GF-STACK-005",
            "software.driver_modules",
            f"{gpu.name} ({gpu.architecture}) requires the open kernel modules",
            "set driver_modules: open (or auto)",
        )
    if wanted != "auto":
        return wanted
    if gpu.open_modules == "required":
        if not open_possible:
            return Conflict(
                "GF-STACK-005",
                "software.driver",
                f"{gpu.name} needs open kernel modules, absent before "
                f"R{catalog.open_modules_first_branch}",
                "choose a newer driver branch",
            )
        return "open"
    default_open = branch >= catalog.open_modules_default_branch
    return "open" if open_possible and default_open else "proprietary"


_Release = TypeVar("_Release", DriverRelease, CudaRelease, NcclRelease)
_Judge = Callable[[Catalog, Version], "_Release | None"]


def _judged(
    catalog: Catalog, req: Requirement, versions: list[Version], judge: _Judge[_Release]
) -> list[_Release]:
    """The repository's `versions` that `req` admits and the catalog can judge."""
    offered = (judge(catalog, v) for v in versions)
    return [r for r in offered if r is not None and req.admits(r.version)]


def _listed(
    catalog: Catalog, req: Requirement, listed: list[_Release], judge: _Judge[_Release]
) -> list[_Release]:
    """The catalogued releases `req` admits; with none, the one its prefix is judged as."""
    admitted = [r for r in listed if req.admits(r.version)]
    judged = judge(catalog, req.prefix) if req.prefix and not admitted else None
    return [judged] if judged else admitted


class StackSolver:
    """Resolve one pool's software stack against the catalog, as of a given date."""

    def __init__(self, catalog: Catalog, as_of: date, repo: RepoIndex | None = None) -> None:
        self.catalog = catalog
        self.as_of = as_of
        self.repo = repo

    def _drivers(self, req: Requirement) -> list[DriverRelease]:
        if self.repo is not None:
            return _judged(self.catalog, req, self.repo.driver_versions(), judge_driver)
        return _listed(self.catalog, req, self.catalog.drivers, judge_driver)

    def _cudas(self, req: Requirement) -> list[CudaRelease]:
        if self.repo is not None:
            return _judged(self.catalog, req, self.repo.cuda_versions(), judge_cuda)
        return _listed(self.catalog, req, self.catalog.cuda, judge_cuda)

    def _nccls(self, req: Requirement) -> list[NcclRelease]:
        if self.repo is not None:
            found = []
            for version, builds in self.repo.nccl_builds().items():
                judged = judge_nccl(self.catalog, version)
                if judged is not None and req.admits(version):
                    found.append(judged.model_copy(update={"cuda": builds}))
            return found
        return _listed(self.catalog, req, self.catalog.nccl, judge_nccl)

    def _cudnns(self, req: Requirement) -> list[CudnnRelease]:
        if self.repo is not None:
            return [
                build
                for version, majors in self.repo.cudnn_builds().items()
                if req.admits(version)
                for build in judge_cudnn(self.catalog, version)
                if build.cuda_major in majors
            ]
        listed = [c for c in self.catalog.cudnn if req.admits(c.version)]
        return listed or (judge_cudnn(self.catalog, req.prefix) if req.prefix else [])

    def _plain(self, req: Requirement, listed: list[Version], package: str) -> list[Version]:
        """Container toolkit or DCGM versions: the repository's, else the catalog's."""
        known = self.repo.upstream_versions(package) if self.repo is not None else listed
        return [v for v in known if req.admits(v)]

    def _no_candidates(self, what: str, req: Requirement) -> Conflict:
        """Why no driver or CUDA version is left: not offered, or outside the version model."""
        if self.repo is not None:
            return self._missing(what, req)
        catalog = self.catalog
        listed = (
            [d.version for d in catalog.drivers]
            if what == "driver"
            else [c.version for c in catalog.cuda]
        )
        prefix = req.prefix
        if prefix is None:
            known = False
        elif what == "driver":
            known = str(prefix.major) in catalog.branches
        else:
            known = any(prefix.parts[:2] == c.version.parts[:2] for c in catalog.cuda)
        return _unknown(what, req, listed, known)

    def _missing(self, what: str, req: Requirement) -> Conflict:
        source = self.repo.source if self.repo is not None else "?"
        return Conflict(
            NOT_OFFERED,
            f"software.{what}",
            f"the repository {source} offers no {what} version matching {req}",
            f"use a {what} version the repository offers, or add it to the repository",
        )

    def solve(self, software: SoftwareSpec, gpu: GpuModel) -> StackResult:
        """Return the newest compatible stack for `gpu` under `software`, or its conflicts."""
        if gpu.vendor != "nvidia":
            return StackResult(
                conflicts=[
                    Conflict(
                        "GF-STACK-012",
                        "pools.gpu",
                        f"{gpu.name} is an {gpu.vendor.upper()} GPU: the NVIDIA driver/CUDA "
                        "stack does not apply",
                        "use an NVIDIA GPU for this pool; ROCm stacks are not managed yet",
                    )
                ]
            )
        req = {
            name: parse_requirement(getattr(software, name))
            for name in ("driver", "cuda", "cudnn", "nccl", "container_toolkit", "dcgm")
        }
        drivers, cudas, conflicts = self._unary(software, gpu, req)
        if conflicts:
            return StackResult(conflicts=conflicts)
        return self._combine(software, gpu, req, drivers, cudas)

    def _unary(
        self, software: SoftwareSpec, gpu: GpuModel, req: dict[str, Requirement]
    ) -> tuple[list[DriverRelease], list[CudaRelease], list[Conflict]]:
        catalog = self.catalog
        conflicts: list[Conflict] = []
        os_info = catalog.os_releases[software.os]
        drivers = self._drivers(req["driver"])
        if not drivers:
            conflicts.append(self._no_candidates("driver", req["driver"]))
        cudas = self._cudas(req["cuda"])
        if not cudas:
            conflicts.append(self._no_candidates("cuda", req["cuda"]))
        if conflicts:
            return drivers, cudas, conflicts
        floor = gpu_min_driver(catalog, gpu)
        for_gpu = [d for d in drivers if _driver_supports_gpu(catalog, d, gpu)]
        if not for_gpu:
            last_branch = int(gpu.last_driver_branch or 0)
            if last_branch and all(d.version.major > last_branch for d in drivers):
                conflicts.append(
                    Conflict(
                        "GF-STACK-011",
                        "software.driver",
                        f"{gpu.name} ({gpu.architecture}) is supported only up to driver branch "
                        f"R{gpu.last_driver_branch}; driver {req['driver']} is newer",
                        f'pin driver "{gpu.last_driver_branch}" or older',
                    )
                )
            else:
                conflicts.append(
                    Conflict(
                        "GF-STACK-003",
                        "software.driver",
                        f"{gpu.name} needs driver {floor} or newer (first CUDA for it: "
                        f"{gpu.min_cuda}); driver {req['driver']} predates the GPU",
                        f"use a driver of branch R{floor.major if floor else '?'} or newer",
                    )
                )
        for_os = [d for d in for_gpu if d.version.major >= int(os_info.min_driver_branch)]
        if for_gpu and not for_os:
            conflicts.append(
                Conflict(
                    "GF-STACK-009",
                    "software.os",
                    f"{software.os} is supported from driver branch R{os_info.min_driver_branch}; "
                    f"driver {req['driver']} is older",
                    f"use driver R{os_info.min_driver_branch}+ or an older OS",
                )
            )
        cuda_gpu = [c for c in cudas if _cuda_supports_gpu(catalog, c, gpu)]
        if not cuda_gpu:
            conflicts.append(self._cuda_gpu_conflict(gpu, req["cuda"]))
        cuda_os = [c for c in cuda_gpu if c.version >= Version.parse(os_info.min_cuda)]
        if cuda_gpu and not cuda_os:
            conflicts.append(
                Conflict(
                    "GF-STACK-009",
                    "software.os",
                    f"{software.os} is packaged from CUDA {os_info.min_cuda}; CUDA "
                    f"{req['cuda']} is older",
                    f"use CUDA {os_info.min_cuda}+ or an older OS",
                )
            )
        return for_os, cuda_os, conflicts

    def _cuda_gpu_conflict(self, gpu: GpuModel, cuda_req: Requirement) -> Conflict:
        cc = gpu.cc_version
        wanted = self._cudas(cuda_req)
        dropped = [
            c
            for c in wanted
            if (gpu.max_cuda_major is not None and c.version.major > gpu.max_cuda_major)
            or (
                cc is not None
                and cc < self.catalog.cuda_families[c.version.major].min_compute_capability
            )
        ]
        if dropped:
            last = gpu.max_cuda_major or dropped[0].version.major - 1
            return Conflict(
                "GF-STACK-002",
                "software.cuda",
                f"CUDA {cuda_req} no longer supports {gpu.name} ({gpu.architecture}, compute "
                f"capability {gpu.compute_capability})",
                f'pin cuda to a {last}.x release (e.g. ">={last}.0,<{last + 1}") or use newer GPUs',
            )
        return Conflict(
            "GF-STACK-003",
            "software.cuda",
            f"{gpu.name} ({gpu.architecture}) needs CUDA {gpu.min_cuda} or newer; "
            f"CUDA {cuda_req} predates it",
            f'use cuda ">={gpu.min_cuda}" or auto',
        )

    def _combine(
        self,
        software: SoftwareSpec,
        gpu: GpuModel,
        req: dict[str, Requirement],
        drivers: list[DriverRelease],
        cudas: list[CudaRelease],
    ) -> StackResult:
        catalog = self.catalog
        ordered = sorted(
            drivers, key=lambda d: (_tier(catalog, d, self.as_of), [-p for p in d.version.parts])
        )
        cudas_newest = sorted(cudas, key=lambda c: c.version, reverse=True)
        explicit_pair = not req["driver"].is_auto and not req["cuda"].is_auto
        last_conflict: Conflict | None = None
        for allow_minor in (False, True) if explicit_pair else (False,):
            for driver in ordered:
                modules = _choose_modules(catalog, software.driver_modules, gpu, driver)
                if isinstance(modules, Conflict):
                    last_conflict = modules
                    continue
                if not self._offers_driver(software, driver, modules):
                    last_conflict = self._missing("driver", req["driver"])
                    continue
                for cuda in cudas_newest:
                    full = driver.version >= cuda.min_driver
                    if not full and not (
                        allow_minor and minor_compatible(catalog, driver.version, cuda)
                    ):
                        continue
                    picked = self._libraries(software, gpu, req, driver, cuda)
                    if isinstance(picked, Conflict):
                        last_conflict = picked
                        continue
                    nccl, nccl_build, cudnn, ctk, dcgm = picked
                    stack = self._stack(
                        software,
                        gpu,
                        req,
                        (driver, cuda, modules),
                        (nccl, nccl_build, cudnn, ctk, dcgm),
                        minor=not full,
                    )
                    return StackResult(
                        stack=stack, notices=_notices(driver, cuda, nccl, cudnn, stack)
                    )
        reachable = any(
            driver.version >= c.min_driver or minor_compatible(catalog, driver.version, c)
            for driver in drivers
            for c in cudas
        )
        if last_conflict is not None and reachable:
            return StackResult(conflicts=[last_conflict])
        newest_driver = max(d.version for d in drivers)
        oldest_cuda = min(cudas, key=lambda c: c.version)
        return StackResult(
            conflicts=[
                Conflict(
                    "GF-STACK-001",
                    "software.driver",
                    f"driver {req['driver']} (newest {newest_driver}) is below the floor of CUDA "
                    f"{req['cuda']} (CUDA {oldest_cuda.version} needs {oldest_cuda.min_driver})",
                    f'raise driver to "{oldest_cuda.min_driver.major}" or newer, or lower cuda',
                )
            ]
        )

    def _libraries(
        self,
        software: SoftwareSpec,
        gpu: GpuModel,
        req: dict[str, Requirement],
        driver: DriverRelease,
        cuda: CudaRelease,
    ) -> tuple[NcclRelease, str, CudnnRelease | None, Version, Version] | Conflict:
        catalog = self.catalog
        nccls = self._nccls(req["nccl"])
        fitting = [n for n in nccls if _nccl_fits(n, cuda, gpu, catalog)]
        if not fitting:
            floor = catalog.nccl_min_for_arch.get(gpu.architecture)
            if nccls and floor and all(n.version < floor for n in nccls):
                return Conflict(
                    "GF-STACK-013",
                    "software.nccl",
                    f"NCCL {req['nccl']} predates {gpu.architecture} support (needs {floor}+)",
                    f'use nccl ">={floor}" or auto',
                )
            return Conflict(
                "GF-STACK-007",
                "software.nccl",
                f"no NCCL {req['nccl']} build exists for CUDA {cuda.minor}",
                "use nccl: auto, or a CUDA release that NCCL version is built for",
            )
        nccl = fitting[-1]
        build = nccl_build_for(nccl, cuda) or cuda.minor
        cudnn: CudnnRelease | None = None
        if str(req["cudnn"]).lower() != "none":
            options = [
                c for c in self._cudnns(req["cudnn"]) if _cudnn_fits(c, cuda, gpu, driver.version)
            ]
            if not options:
                return Conflict(
                    "GF-STACK-006",
                    "software.cudnn",
                    f"no cuDNN {req['cudnn']} build serves CUDA {cuda.minor} on {gpu.name}",
                    "use cudnn: auto, or a CUDA release that cuDNN build serves",
                )
            cudnn = max(options, key=lambda c: c.version)
        ctks = self._plain(req["container_toolkit"], catalog.container_toolkit, _CTK)
        dcgms = self._plain(req["dcgm"], catalog.dcgm, _DCGM)
        if self.repo is not None and not ctks:
            return self._missing("container_toolkit", req["container_toolkit"])
        if self.repo is not None and not dcgms:
            return self._missing("dcgm", req["dcgm"])
        ctk = max(ctks or catalog.container_toolkit)
        dcgm = max(dcgms or catalog.dcgm)
        return nccl, build, cudnn, ctk, dcgm

    def _offers_driver(self, software: SoftwareSpec, driver: DriverRelease, modules: str) -> bool:
        if self.repo is None:
            return True
        repo = self.catalog.os_releases[software.os].cuda_repo
        pins = driver_packages(repo, driver.branch, str(driver.version), modules == "open")
        return all(self.repo.offers(pin) for pin in pins)

    def _stack(
        self,
        software: SoftwareSpec,
        gpu: GpuModel,
        req: dict[str, Requirement],
        core: tuple[DriverRelease, CudaRelease, str],
        libraries: tuple[NcclRelease, str, CudnnRelease | None, Version, Version],
        minor: bool,
    ) -> ResolvedStack:
        catalog = self.catalog
        driver, cuda, modules = core
        nccl, nccl_build, cudnn, ctk, dcgm = libraries
        branch = catalog.branches.get(driver.branch)
        offered = (
            f"release offered by {self.repo.source}"
            if self.repo is not None
            else "catalogued release"
        )
        eol = branch.eol if branch and branch.eol else "not announced"
        support = "runs through minor-version compatibility" if minor else "fully supports"
        cudnn_reason = (
            _why(
                req["cudnn"],
                f"newest cuDNN build for CUDA {cuda.minor} on compute capability "
                f"{gpu.compute_capability}",
            )
            if cudnn
            else "not installed"
        )
        reasons = {
            "driver": _why(
                req["driver"],
                f"newest release of R{driver.branch} ({branch.type if branch else '?'}, end of "
                f"life {eol}) supporting {gpu.name} on {software.os}",
            ),
            "driver_modules": f"{modules}: {_modules_reason(catalog, software, gpu, modules)}",
            "cuda": _why(
                req["cuda"],
                f"newest CUDA that driver {driver.version} {support} on compute capability "
                f"{gpu.compute_capability} (needs {cuda.min_driver})",
            ),
            "nccl": _why(req["nccl"], f"newest NCCL with a CUDA {nccl_build} build"),
            "cudnn": cudnn_reason,
            "container_toolkit": _why(req["container_toolkit"], f"newest {offered}"),
            "dcgm": _why(req["dcgm"], f"newest {offered}"),
        }
        return ResolvedStack(
            os=software.os,
            driver=str(driver.version),
            driver_branch=driver.branch,
            driver_modules=modules,
            cuda=str(cuda.version),
            cudnn=str(cudnn.version) if cudnn else None,
            nccl=f"{nccl.version}+cuda{nccl_build}",
            container_toolkit=str(ctk),
            dcgm=str(dcgm),
            reasons=reasons,
            minor_version_compat=minor,
        )


def _modules_reason(catalog: Catalog, software: SoftwareSpec, gpu: GpuModel, modules: str) -> str:
    if software.driver_modules != "auto":
        return "requested"
    if gpu.open_modules == "required":
        return "required by the GPU"
    if gpu.open_modules == "unsupported":
        return "the GPU cannot run open modules"
    edge = "default from" if modules == "open" else "default before"
    return f"{edge} R{catalog.open_modules_default_branch}"


def _why(req: Requirement, detail: str) -> str:
    return f"{detail}" if req.is_auto else f"{detail}; matches the requirement {req}"


def _unknown(name: str, req: Requirement, known: list[Version], known_series: bool) -> Conflict:
    shown = ", ".join(str(v) for v in known[-8:])
    what = "branch" if name == "driver" else "series"
    message = (
        f"{name} {req} names a known {what} but no exact version of it: none is catalogued"
        if known_series
        else f"{name} {req} is outside every known {what} and matches no catalogued release"
    )
    return Conflict(
        "GF-STACK-010",
        f"software.{name}",
        message,
        f"pin an exact version of a known {what}, lock against the repository (--repo), or use "
        f"one of the known releases ({shown})",
    )


def _notices(
    driver: DriverRelease,
    cuda: CudaRelease,
    nccl: NcclRelease,
    cudnn: CudnnRelease | None,
    stack: ResolvedStack,
) -> list[Conflict]:
    """An info notice for each pinned version the catalog does not list (judged by its series)."""
    judged = [
        ("driver", driver.catalogued, stack.driver, f"branch R{stack.driver_branch}"),
        ("cuda", cuda.catalogued, stack.cuda, f"the {cuda.minor} series (needs {cuda.min_driver})"),
        ("nccl", nccl.catalogued, stack.nccl, "the nearest catalogued NCCL release's builds"),
        ("cudnn", cudnn is None or cudnn.catalogued, stack.cudnn, "the nearest cuDNN 9 release"),
    ]
    return [
        Conflict(
            UNCATALOGUED,
            f"software.{name}",
            f"{name} {text} is not in the catalog; judged by {basis}",
            "nothing to do if this is the version you mean; otherwise pin a catalogued one",
        )
        for name, catalogued, text, basis in judged
        if not catalogued
    ]
