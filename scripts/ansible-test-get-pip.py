"""Offline stand-in for pip's get-pip.py, which ansible-test downloads to bootstrap pip.

ansible-test creates an empty virtualenv per sanity test and runs this file there with pip's
arguments (pip==VERSION and the like), as it would run get-pip.py from ci-files.testing.ansible.com,
a host this project does not reach. Python's own ensurepip installs its bundled pip, which then
installs what was asked for from the configured package index.
"""

import subprocess
import sys

# get-pip.py's own switches; pip install does not take them.
_GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main() -> None:
    """Bootstrap pip, then `pip install` the arguments."""
    # In a child: ensurepip drops the pip settings (index, certificates) of the process it runs in.
    subprocess.run([sys.executable, "-m", "ensurepip"], check=True)
    arguments = [argument for argument in sys.argv[1:] if argument not in _GET_PIP_ONLY]
    subprocess.run([sys.executable, "-m", "pip", "install", *arguments], check=True)


main()
