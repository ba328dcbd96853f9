"""The stand-in packages: names and versions per docs/PACKAGES.md for every catalog release,
per NVIDIA CUDA repository (ubuntu2204, ubuntu2404, debian12): the driver packaging differs by
repository, the CUDA, library and tool packages are the same in all.

Each package installs the simulated tools that come with the real one and, in its maintainer
scripts, records what it installed in the node's state (tools/simpkg.py), so install, upgrade,
downgrade and removal change what the simulated hardware reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gpuforge.catalog import (
    APT_REPOS,
    CUDA_KEYRING,
    DEBIAN_REPOS,
    Catalog,
    DriverRelease,
    Version,
    cuda_drivers_package,
)

# Versions the catalog does not carry (source: the projects' release pages, 2026-11):
# dcgm-exporter tags pair a DCGM version with the exporter's own; Debian 12's rdma-core is 44.0-2.
DCGM_EXPORTER_VERSIONS = ("3.3.8-3.6.0", "3.3.9-3.6.1")
RDMA_VERSION = "44.0-2"
# cuDNN releases the catalog does not pin but the collection's roles name as their defaults
# (cudnn_version 9.1.0.70 for CUDA 12; NVIDIA's repositories carry libcudnn9-cuda-12=9.1.0.70-1),
# so that site.yml runs with its defaults on a fresh node.
ROLE_DEFAULT_CUDNN = (("9.1.0.70", 12),)
# NVIDIA's repositories carry a branch pinning package from R580 on (driver installation guide,
# "Version locking"); its Debian revision here is UNVERIFIED (one observation: 610-2ubuntu1).
PINNING_FIRST_BRANCH = 580
SIMPKG = '"${GPUFORGE_SIM_ROOT:-}/usr/lib/gpuforge-sim/simpkg.py"'


@dataclass(frozen=True)
class Package:
    """One .deb: control fields, files (node path -> tool script name or literal text), state."""

    name: str
    version: str
    description: str
    depends: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    tools: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    component: str = ""
    extra: tuple[str, ...] = ()
    setup: str = ""
    arch: str = "amd64"

    @property
    def upstream(self) -> str:
        """The version without epoch and Debian revision, as simpkg records it."""
        bare = self.version.split(":", 1)[-1]
        return bare.split("-", 1)[0] if self.name != "dcgm-exporter" else bare

    def control(self) -> str:
        """The DEBIAN/control file."""
        lines = [
            f"Package: {self.name}",
            f"Version: {self.version}",
            f"Architecture: {self.arch}",
            "Maintainer: gpuforge simulator <gpuforge@localhost>",
            "Section: misc",
            "Priority: optional",
        ]
        if self.depends:
            lines.append(f"Depends: {', '.join(self.depends)}")
        if self.provides:
            joined = ", ".join(self.provides)
            lines += [f"Provides: {joined}", f"Conflicts: {joined}", f"Replaces: {joined}"]
        lines.append(f"Description: {self.description} (gpuforge simulated stand-in)")
        return "\n".join(lines) + "\n"

    def postinst(self) -> str:
        """Record the component on configure; fails when a `package-fail` fault names us."""
        extra = " ".join(self.extra)
        record = ""
        if self.component:
            record = (
                f"  /usr/bin/python3 -S {SIMPKG} configure {self.name} {self.component} "
                f"{self.upstream} {extra}\n"
            )
        # `:` keeps the `then` branch non-empty for packages that record nothing
        body = f"{record}{self.setup}  :\n"
        return f'#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n{body}fi\nexit 0\n'

    def postrm(self) -> str:
        """Forget the component on remove/purge (an upgrade's new postinst records the new one)."""
        body = ""
        if self.component:
            body = (
                f"  if [ -f {SIMPKG} ]; then /usr/bin/python3 -S {SIMPKG} remove {self.name} "
                f"{self.component} {self.upstream}; fi\n"
            )
        return f'#!/bin/sh\nset -e\ncase "$1" in remove|purge)\n{body}  ;;\nesac\nexit 0\n'


def _unit(description: str, exec_start: str) -> str:
    return (
        f"[Unit]\nDescription={description}\n\n[Service]\nType=simple\n"
        f"ExecStart={exec_start}\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n"
    )


def _driver_cuda(cat: Catalog, driver: Version) -> str:
    """The CUDA version nvidia-smi reports for a driver: the newest toolkit it fully supports."""
    best = "11.0"
    for cuda in cat.cuda:
        if cuda.min_driver <= driver:
            best = cuda.minor
    return best


def _fabricmanager(branch: str, version: str) -> Package:
    return Package(
        f"nvidia-fabricmanager-{branch}",
        f"{version}-1",
        f"Fabric Manager for NVSwitch based systems ({branch})",
        provides=("nvidia-fabricmanager",),
        tools={"usr/bin/nv-fabricmanager": "daemon.py"},
        texts={
            "lib/systemd/system/nvidia-fabricmanager.service": _unit(
                "NVIDIA fabric manager service", "/usr/bin/nv-fabricmanager"
            )
        },
        component="fabricmanager",
    )


def _smi(name: str, deb: str, description: str, provides: str) -> Package:
    return Package(
        name, deb, description, provides=(provides,), tools={"usr/bin/nvidia-smi": "nvidia_smi.py"}
    )


def _persistenced(name: str, deb: str, description: str, provides: str) -> Package:
    return Package(
        name,
        deb,
        description,
        provides=(provides,),
        tools={"usr/bin/nvidia-persistenced": "daemon.py"},
        texts={
            "lib/systemd/system/nvidia-persistenced.service": _unit(
                "NVIDIA Persistence Daemon", "/usr/bin/nvidia-persistenced --verbose"
            )
        },
    )


def _flavours(cat: Catalog, branch: str) -> list[tuple[bool, str]]:
    """(open modules?, flavour name) of the kernel modules a branch ships."""
    out = [(False, "proprietary")]
    if int(branch) >= cat.open_modules_first_branch:
        out.append((True, "open"))
    return out


def _ubuntu_driver(cat: Catalog, release: DriverRelease) -> list[Package]:
    """One release as NVIDIA's ubuntu2204/ubuntu2404 repositories package it (branch in names)."""
    ver, branch = str(release.version), release.branch
    deb = f"{ver}-0ubuntu1"
    extra = (f"branch={branch}", f"cuda={_driver_cuda(cat, release.version)}")
    utils, compute = f"nvidia-utils-{branch}", f"nvidia-compute-utils-{branch}"
    common = f"nvidia-kernel-common-{branch}"
    out = [
        _smi(utils, deb, f"NVIDIA driver support binaries ({branch})", "nvidia-utils"),
        _persistenced(compute, deb, f"NVIDIA compute utilities ({branch})", "nvidia-compute-utils"),
        Package(
            common,
            deb,
            f"Shared files used with the kernel module ({branch})",
            provides=("nvidia-kernel-common",),
        ),
    ]
    metas = []
    for open_modules, flavour in _flavours(cat, branch):
        name = f"nvidia-driver-{branch}{'-open' if open_modules else ''}"
        metas.append(f"{name} (= {deb})")
        out.append(
            Package(
                name,
                deb,
                f"NVIDIA driver metapackage, {flavour} kernel modules ({branch})",
                depends=(f"{utils} (= {deb})", f"{compute} (= {deb})", f"{common} (= {deb})"),
                provides=("nvidia-driver-binary",),
                component="driver",
                extra=(f"flavor={flavour}", *extra),
            )
        )
    meta = cuda_drivers_package(branch, ver)
    # cuda-drivers-<branch> takes the proprietary modules unless the open ones are already chosen.
    out.append(
        Package(
            meta.name,
            meta.version,
            f"CUDA driver metapackage ({branch})",
            depends=(" | ".join(metas),),
        )
    )
    return out


def _debian_driver(cat: Catalog, release: DriverRelease) -> list[Package]:
    """One release as NVIDIA's debian12 repository packages it (no branch in names)."""
    ver, branch = str(release.version), release.branch
    deb = f"{ver}-1"
    extra = (f"branch={branch}", f"cuda={_driver_cuda(cat, release.version)}")
    out = [
        _smi("nvidia-smi", deb, "NVIDIA System Management Interface", "nvidia-smi-any"),
        _persistenced(
            "nvidia-persistenced", deb, "NVIDIA Persistence Daemon", "nvidia-persistenced-any"
        ),
    ]
    modules = []
    for open_modules, flavour in _flavours(cat, branch):
        name = "nvidia-kernel-open-dkms" if open_modules else "nvidia-kernel-dkms"
        modules.append(f"{name} (= {deb})")
        out.append(
            Package(
                name,
                deb,
                f"NVIDIA binary kernel module DKMS source, {flavour} flavour",
                provides=("nvidia-kernel-dkms-any",),
                component="driver",
                extra=(f"flavor={flavour}", *extra),
            )
        )
    either = " | ".join(modules)
    out.append(
        Package(
            "nvidia-driver",
            deb,
            "NVIDIA metapackage",
            depends=(f"nvidia-smi (= {deb})", f"nvidia-persistenced (= {deb})", either),
        )
    )
    if len(modules) > 1:
        out.append(
            Package(
                "nvidia-open",
                deb,
                "NVIDIA driver metapackage, open GPU kernel modules",
                depends=(f"nvidia-driver (= {deb})", modules[1]),
            )
        )
    meta = cuda_drivers_package(branch, ver)
    out.append(
        Package(
            meta.name,
            meta.version,
            f"CUDA driver metapackage ({branch})",
            depends=(f"nvidia-driver (= {deb})", either),
        )
    )
    return out


def _pinning(branch: str, debian: bool) -> Package:
    """`nvidia-driver-pinning-<branch>`: APT preferences that keep the driver's packages on one
    branch, so that `cuda-drivers-<branch>` resolves where the names carry no branch."""
    preferences = (
        "Package: nvidia-* libnvidia-* cuda-drivers* libcuda1 firmware-nvidia-gsp\n"
        f"Pin: version {branch}.*\nPin-Priority: 1000\n"
    )
    return Package(
        f"nvidia-driver-pinning-{branch}",
        f"{branch}-1" if debian else f"{branch}-1ubuntu1",
        f"APT preferences that pin the NVIDIA driver to branch {branch}",
        texts={f"etc/apt/preferences.d/nvidia-driver-pinning-{branch}": preferences},
        arch="all",
    )


def _driver_packages(cat: Catalog, repo: str) -> list[Package]:
    out = []
    debian = repo in DEBIAN_REPOS
    packaging = _debian_driver if debian else _ubuntu_driver
    for release in cat.drivers:
        out += packaging(cat, release)
        out.append(_fabricmanager(release.branch, str(release.version)))
    branches = sorted({r.branch for r in cat.drivers if int(r.branch) >= PINNING_FIRST_BRANCH})
    return out + [_pinning(branch, debian) for branch in branches]


def keyring_package(repo: str) -> Package:
    """`cuda-keyring` of one repository: its key file and its APT source. The stand-in's source
    names the stand-in and is trusted, as the stand-in repository is not signed."""
    source = f"deb [trusted=yes] file:/srv/gpuforge-apt/{repo}/x86_64/ /\n"
    return Package(
        CUDA_KEYRING.name,
        CUDA_KEYRING.version,
        "GPG keyring and APT source for the CUDA repository",
        texts={
            "usr/share/keyrings/cuda-archive-keyring.gpg": "gpuforge stand-in: no key\n",
            f"etc/apt/sources.list.d/cuda-{repo}-x86_64.list": source,
        },
        arch="all",
    )


def _nvcc(cuda: str, full: str) -> str:
    return (
        "#!/bin/sh\necho 'nvcc: NVIDIA (R) Cuda compiler driver'\n"
        "echo 'Copyright (c) 2005-2024 NVIDIA Corporation'\n"
        f"echo 'Cuda compilation tools, release {cuda}, V{full}'\n"
        f"echo 'Build cuda_{cuda}.r{cuda}/compiler.00000000_0'\n"
    )


def _cuda_packages(cat: Catalog) -> list[Package]:
    out = []
    compat_seen: set[tuple[str, str]] = set()
    for release in cat.cuda:
        cuda, full = release.minor, str(release.version)
        dashed = cuda.replace(".", "-")
        prefix = f"usr/local/cuda-{cuda}"
        alternatives = (
            '  if [ -z "${GPUFORGE_SIM_ROOT:-}" ]; then update-alternatives --quiet --install '
            f"/usr/local/cuda cuda /usr/local/cuda-{cuda} {dashed.replace('-', '')}; fi\n"
        )
        out.append(
            Package(
                f"cuda-toolkit-{dashed}",
                f"{full}-1",
                f"CUDA Toolkit {cuda}",
                texts={
                    f"{prefix}/bin/nvcc": _nvcc(cuda, full),
                    f"{prefix}/version.json": f'{{"cuda": {{"version": "{full}"}}}}\n',
                },
                component=f"cuda-{cuda}",
                setup=alternatives,
            )
        )
        # Updates of one release may share a driver floor (12.6.1 and 12.6.2): one package each.
        if (dashed, str(release.min_driver)) in compat_seen:
            continue
        compat_seen.add((dashed, str(release.min_driver)))
        out.append(
            Package(
                f"cuda-compat-{dashed}",
                f"{release.min_driver}-1",
                f"CUDA {cuda} forward compatibility libraries",
                texts={f"{prefix}/compat/README": f"forward compatibility for CUDA {cuda}\n"},
                component=f"cuda-compat-{cuda}",
            )
        )
    return out


def _library_packages(cat: Catalog) -> list[Package]:
    out = []
    for nccl in cat.nccl:
        for cuda in nccl.cuda:
            deb = f"{nccl.version}-1+cuda{cuda}"
            out.append(
                Package(
                    "libnccl2",
                    deb,
                    "NVIDIA Collective Communication Library (NCCL) Runtime",
                    texts={"usr/lib/x86_64-linux-gnu/libnccl.so.2": f"NCCL {nccl.version}\n"},
                    component="nccl",
                    extra=(f"cuda={cuda}",),
                )
            )
            out.append(
                Package(
                    "libnccl-dev",
                    deb,
                    "NCCL development files",
                    depends=(f"libnccl2 (= {deb})",),
                    texts={"usr/include/nccl.h": f"/* NCCL {nccl.version} */\n"},
                )
            )
    cudnn_builds = [(str(c.version), c.cuda_major) for c in cat.cudnn]
    for version, major in [*cudnn_builds, *ROLE_DEFAULT_CUDNN]:
        deb = f"{version}-1"
        out.append(
            Package(
                f"libcudnn9-cuda-{major}",
                deb,
                f"cuDNN runtime libraries for CUDA {major}",
                component="cudnn",
                extra=(f"cuda_major={major}",),
            )
        )
        out.append(
            Package(
                f"libcudnn9-dev-cuda-{major}",
                deb,
                f"cuDNN development files for CUDA {major}",
                depends=(f"libcudnn9-cuda-{major} (= {deb})",),
            )
        )
    for ctk in cat.container_toolkit:
        deb = f"{ctk}-1"
        parts = (
            "nvidia-container-toolkit-base",
            "libnvidia-container-tools",
            "libnvidia-container1",
        )
        for part in parts:
            out.append(Package(part, deb, f"NVIDIA container runtime piece {part}"))
        ctk_cli = (
            '#!/bin/sh\ncase "$1" in --version|-v) '
            f"echo 'NVIDIA Container Toolkit CLI version {ctk}' ;;\n"
            "runtime) echo 'INFO[0000] Config file does not exist; using empty config'; "
            "echo 'INFO[0000] Wrote updated config' ;;\n"
            # `cdi generate` prints a CDI spec with one device per GPU nvidia-smi lists.
            "cdi) n=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU'); "
            "printf -- '---\\ncdiVersion: 0.5.0\\nkind: nvidia.com/gpu\\ndevices:\\n'; i=0; "
            'while [ $i -lt $n ]; do printf -- \'- name: "%s"\\n  containerEdits:\\n'
            "    deviceNodes:\\n    - path: /dev/nvidia%s\\n' $i $i; i=$((i+1)); done; "
            "printf -- 'containerEdits:\\n  deviceNodes:\\n  - path: /dev/nvidiactl\\n' ;;\n"
            '*) echo "nvidia-ctk: unsupported in the simulator: $*" >&2; exit 1 ;;\nesac\n'
        )
        out.append(
            Package(
                "nvidia-container-toolkit",
                deb,
                "NVIDIA Container toolkit",
                depends=tuple(f"{p} (= {deb})" for p in parts),
                texts={"usr/bin/nvidia-ctk": ctk_cli},
                component="container-toolkit",
            )
        )
    return out


def _ops_packages(cat: Catalog) -> list[Package]:
    out = []
    for dcgm in cat.dcgm:
        out.append(
            Package(
                "datacenter-gpu-manager",
                f"1:{dcgm}",
                "NVIDIA Data Center GPU Manager (DCGM)",
                tools={"usr/bin/dcgmi": "dcgmi.py", "usr/bin/nv-hostengine": "daemon.py"},
                texts={
                    "lib/systemd/system/nvidia-dcgm.service": _unit(
                        "NVIDIA DCGM service",
                        "/usr/bin/nv-hostengine -n --service-account nvidia-dcgm",
                    )
                },
                component="dcgm",
            )
        )
    for version in DCGM_EXPORTER_VERSIONS:
        out.append(
            Package(
                "dcgm-exporter",
                version,
                "NVIDIA DCGM exporter for Prometheus",
                tools={"usr/bin/dcgm-exporter": "exporter.py"},
                texts={
                    "lib/systemd/system/dcgm-exporter.service": _unit(
                        "NVIDIA DCGM exporter", "/usr/bin/dcgm-exporter dcgm"
                    )
                },
                component="dcgm-exporter",
            )
        )
    for node_exporter in cat.other_packages.get("node_exporter", []):
        out.append(
            Package(
                "prometheus-node-exporter",
                str(node_exporter),
                "Prometheus exporter for machine metrics",
                tools={"usr/bin/prometheus-node-exporter": "exporter.py"},
                texts={
                    "lib/systemd/system/prometheus-node-exporter.service": _unit(
                        "Prometheus exporter for machine metrics",
                        "/usr/bin/prometheus-node-exporter node",
                    )
                },
                component="node-exporter",
            )
        )
    for nccl_tests in cat.other_packages.get("nccl_tests", []):
        out.append(
            Package(
                "nccl-tests",
                str(nccl_tests),
                "NCCL performance tests",
                depends=("libnccl2",),
                tools={"usr/bin/all_reduce_perf": "all_reduce_perf.py"},
                component="nccl-tests",
            )
        )
    rdma = [
        Package("rdma-core", RDMA_VERSION, "RDMA core userspace infrastructure"),
        Package(
            "ibverbs-utils",
            RDMA_VERSION,
            "Examples for the libibverbs library",
            depends=("rdma-core",),
            tools={"usr/bin/ibv_devinfo": "ibv_devinfo.py"},
        ),
        Package(
            "infiniband-diags",
            RDMA_VERSION,
            "InfiniBand diagnostic programs",
            depends=("rdma-core",),
            tools={"usr/sbin/ibstat": "ibstat.py"},
        ),
        Package(
            "perftest", "4.5-0.20-1", "InfiniBand verbs performance tests", depends=("rdma-core",)
        ),
    ]
    return out + rdma


def distribution_packages(kernel: str) -> list[Package]:
    """Stand-ins for the Debian 12 packages driver automation asks the distribution for, which a
    cloud image has or its archive serves (versions: Debian 12 "bookworm"): `pciutils` (its
    `lspci` is the simulated one), DKMS, kernel headers for the running (host) kernel, firmware.
    """
    return [
        Package(
            "pciutils",
            "1:3.9.0-4",
            "PCI utilities",
            tools={"usr/bin/lspci": "lspci.py"},
        ),
        Package("dkms", "3.0.10-8+deb12u1", "Dynamic Kernel Module System (DKMS)"),
        Package(
            f"linux-headers-{kernel}",
            "1",
            f"Header files for Linux {kernel}",
            texts={f"usr/src/linux-headers-{kernel}/Makefile": f"# headers of {kernel}\n"},
        ),
        Package("firmware-misc-nonfree", "20230210-5", "Binary firmware for various drivers"),
        Package("build-essential", "12.9", "Informational list of build-essential packages"),
    ]


def shared_packages(cat: Catalog) -> list[Package]:
    """The stand-in packages every repository carries alike: CUDA, libraries, tools."""
    return _cuda_packages(cat) + _library_packages(cat) + _ops_packages(cat)


def repository_packages(cat: Catalog) -> dict[str, list[Package]]:
    """Repository directory (ubuntu2204, debian12, ...) -> its own packages: the driver as that
    repository packages it and its keyring (shared_packages() come on top)."""
    return {repo: [keyring_package(repo), *_driver_packages(cat, repo)] for repo in APT_REPOS}


def packages_of(cat: Catalog, repo: str) -> list[Package]:
    """Everything the stand-in repository of `repo` (debian12, ubuntu2204, ...) carries."""
    return repository_packages(cat)[repo] + shared_packages(cat)
