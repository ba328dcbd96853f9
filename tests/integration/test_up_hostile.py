"""A local `up` of a spec full of hostile text executes nothing on the controller (issue 21).

The attack seen: Jinja in `software.repository_url` was written into group_vars and Ansible ran
it on the operator's machine. Now that spec is refused before anything runs (exit 2), and a spec
whose hostile text the spec layer accepts (labels) goes up without running any of it; schedule
windows are weekly cron expressions, so hostile text there is refused by the spec layer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_up import Cluster, _make_cluster, _terraform_missing

pytestmark = [
    pytest.mark.integration,
    pytest.mark.fleet,
    pytest.mark.skipif(os.geteuid() != 0, reason="the fleet needs root (namespaces, mounts)"),
    pytest.mark.skipif(_terraform_missing(), reason="no tofu/terraform (run scripts/setup.sh)"),
]


def _lookup(marker: Path) -> str:
    return f"{{{{ lookup('pipe', 'touch {marker}') }}}}"


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[tuple[Cluster, Path]]:
    """A one-node cluster whose spec carries Jinja, HCL templates and shell in its free text."""
    cluster = _make_cluster(tmp_path, "one-pool.yaml", "it-hostile")
    marker = tmp_path / "MARKER"
    labels = {
        "owner": _lookup(marker),
        "{{ 7 * 7 }}{% if true %}": '${file("/etc/shadow")}',
        "shell": f"$(touch {marker}); `touch {marker}` %{{ if true }}x%{{ endif }}",
    }
    text = cluster.spec.read_text(encoding="utf-8")
    text = text.replace("    count: 2\n", f"    count: 1\n    labels: {json.dumps(labels)}\n")
    cluster.spec.write_text(text, encoding="utf-8")
    try:
        yield cluster, marker
    finally:
        cluster.teardown()


def test_jinja_in_the_repository_url_is_refused_before_anything_runs(
    hostile: tuple[Cluster, Path],
) -> None:
    cluster, marker = hostile
    text = cluster.spec.read_text(encoding="utf-8")
    text = text.replace(
        "software: {", f'software: {{repository: local, repository_url: "{_lookup(marker)}", '
    )
    cluster.spec.write_text(text, encoding="utf-8")
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 2, payload
    assert "software.repository_url" in json.dumps(payload)
    assert not marker.exists()
    assert cluster.nodes() == []


def test_up_with_hostile_free_text_executes_none_of_it(hostile: tuple[Cluster, Path]) -> None:
    cluster, marker = hostile
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]
    assert not marker.exists()
    # A second run (group_vars, inventory and state read again) runs none of it either.
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]
    assert not marker.exists()
