"""gpuforge: one declarative file to a provisioned, configured and validated GPU cluster."""

__version__ = "0.1.0"
