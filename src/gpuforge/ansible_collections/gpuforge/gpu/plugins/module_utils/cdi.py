# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The CDI spec as `nvidia-ctk cdi generate` makes it on this node, as cdi_spec writes it.

Used by `cdi_spec`, which writes it, and by `node_state`, which tells whether the file on the
node still holds it, so both read the generator's output the same way.
"""

from __future__ import annotations

from typing import Any


def generate_spec(module: Any) -> tuple[str | None, int, str]:
    """(the spec's text as written, rc, error): the text is None when generating failed."""
    ctk = module.get_bin_path("nvidia-ctk")
    if not ctk:
        return None, 127, "nvidia-ctk not found"
    rc, out, err = module.run_command([ctk, "cdi", "generate"])
    if rc != 0:
        return None, rc, err.strip()[-2000:]
    return out.rstrip("\r\n") + "\n", 0, ""
