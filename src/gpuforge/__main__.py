"""`python -m gpuforge`: the same CLI as the `gpuforge` console script."""

from gpuforge.cli import main

main()
