"""A Rich progress display for the `up` pipeline: one line per step, one per node while
Ansible runs, and the Terraform resource being created."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column

from gpuforge.configure import ConfigureEvent, EventKind
from gpuforge.provision import ProgressEvent

_DONE_KINDS = {EventKind.OK, EventKind.FAILED, EventKind.SKIPPED, EventKind.UNREACHABLE}


class RichReporter:
    """Implements gpuforge.ops.Reporter on a Rich Progress bound to a console."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[step]}[/]", table_column=Column(min_width=12)),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}", markup=False, table_column=Column(ratio=1)),
            console=console,
            transient=False,
        )
        self._steps: dict[str, TaskID] = {}
        self._hosts: dict[str, TaskID] = {}
        self._resources = 0

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop redrawing while the user reads the plan and answers a question."""
        self.progress.stop()
        try:
            yield
        finally:
            self.progress.start()

    def step_started(self, step: str, detail: str = "") -> None:
        """Add a spinning line for the step."""
        self._steps[step] = self.progress.add_task(detail, step=step, total=None)

    def step_finished(self, step: str, status: str, detail: str = "") -> None:
        """Complete the step's line with its outcome."""
        task = self._steps.get(step)
        if task is None:
            task = self.progress.add_task("", step=step, total=None)
        mark = {"done": "ok", "skipped": "skipped", "failed": "FAILED"}.get(status, status)
        self.progress.update(task, total=1, completed=1, description=f"{mark}: {detail}"[:100])
        for host_task in self._hosts.values():
            self.progress.update(host_task, visible=False)
        self._hosts.clear()

    def terraform_event(self, event: ProgressEvent) -> None:
        """Show the resource Terraform is working on and count completions."""
        task = self._steps.get("provision") or self._steps.get("destroy")
        if task is None or not event.address:
            return
        if event.kind == "apply_complete":
            self._resources += 1
            self.progress.update(task, completed=self._resources)
        self.progress.update(task, description=f"{event.kind} {event.address}")

    def ansible_event(self, event: ConfigureEvent) -> None:
        """One line per node: tasks done, and the role/task it is on."""
        if not event.host:
            return
        task = self._hosts.get(event.host)
        if task is None:
            task = self.progress.add_task("", step=f"  {event.host}", total=None)
            self._hosts[event.host] = task
        where = f"{event.role}: {event.task}" if event.role else event.task
        self.progress.update(task, description=f"{event.status} {where}"[:90])
        if event.kind in _DONE_KINDS:
            self.progress.advance(task)


@contextmanager
def showing(reporter: object) -> Iterator[None]:
    """Show a RichReporter's live progress for the block; any other reporter runs it as is."""
    if isinstance(reporter, RichReporter):
        with reporter:
            yield
    else:
        yield


def pausing(reporter: object) -> Callable[[], AbstractContextManager[None]]:
    """What stops a RichReporter's redrawing while the user answers a question; a no-op else."""
    return reporter.paused if isinstance(reporter, RichReporter) else nullcontext
