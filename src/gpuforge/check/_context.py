"""What rules see: the spec with positions, the catalog, the date, the lock, the repository index
(when one was read), and per-pool facts computed once (GPU model, instance type, solved stack)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from gpuforge.catalog import Catalog, GpuModel, InstanceType
from gpuforge.check._repo import RepoIndex
from gpuforge.check._stack import StackResult, StackSolver
from gpuforge.providers import Provider, provider_for
from gpuforge.spec import Pool, SpecDocument, TargetRef


@dataclass
class PoolFacts:
    """Derived facts about one pool, shared by every rule."""

    name: str
    pool: Pool
    target: TargetRef
    gpu: GpuModel | None
    gpus_per_node: int
    instance: InstanceType | None

    @property
    def provider(self) -> Provider:
        """The target's provider: what it offers and what only it can judge."""
        return provider_for(self.target)


@dataclass
class CheckContext:
    """Inputs of every rule; per-pool facts and stack results are computed lazily and cached."""

    doc: SpecDocument
    catalog: Catalog
    as_of: date
    lock_text: str | None = None
    repo: RepoIndex | None = None
    _pools: dict[str, PoolFacts] = field(default_factory=dict)
    _stacks: dict[str, StackResult] = field(default_factory=dict)
    _solved: dict[tuple[object, ...], StackResult] = field(default_factory=dict)

    @property
    def pools(self) -> dict[str, PoolFacts]:
        """Facts for every pool, in spec order."""
        if not self._pools:
            for name, pool in self.doc.spec.pools.items():
                self._pools[name] = self._facts(name, pool)
        return self._pools

    def _facts(self, name: str, pool: Pool) -> PoolFacts:
        target = self.doc.spec.pool_target(pool)
        instance = None
        if pool.instance_type:
            instance = provider_for(target).instance(self.catalog, pool.instance_type)
        gpu = None
        count = 0
        if pool.gpu is not None:
            gpu = self.catalog.gpus[pool.gpu.model]
            count = pool.gpu.count
        elif instance is not None and instance.gpu and instance.gpu in self.catalog.gpus:
            gpu = self.catalog.gpus[instance.gpu]
            count = instance.gpus
        return PoolFacts(name, pool, target, gpu, count, instance)

    def stack(self, name: str) -> StackResult | None:
        """The solved stack of a pool (None when its GPU is unknown)."""
        facts = self.pools[name]
        if facts.gpu is None:
            return None
        if name not in self._stacks:
            software = self.doc.spec.pool_software(facts.pool)
            key = (software.model_dump_json(), facts.gpu.name)
            if key not in self._solved:
                self._solved[key] = StackSolver(self.catalog, self.as_of, self.repo).solve(
                    software, facts.gpu
                )
            self._stacks[name] = self._solved[key]
        return self._stacks[name]

    def software_path(self, pool: str, field_name: str) -> tuple[str, ...]:
        """Where a software field is written: the pool's override if any, else the cluster's."""
        key = field_name.split(".")[-1]
        if getattr(self.pools[pool].pool.software, key, None) is not None:
            return ("pools", pool, "software", key)
        return ("software", key)
