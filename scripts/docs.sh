#!/usr/bin/env bash
# Build the documentation site offline into .site/: regenerate the reference pages from the code
# (scripts/gen_docs.py), then MkDocs with Material (its own virtualenv, .venv-docs, from PyPI)
# in strict mode, so any warning fails the build.
# Usage: scripts/docs.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv-docs/bin/mkdocs ]; then
    mkdir -p .logs
    python3 -m venv .venv-docs
    .venv-docs/bin/python -m pip install --quiet 'mkdocs-material==9.8.2' >.logs/docs.log 2>&1
fi
.venv/bin/python scripts/gen_docs.py
# Material's banner about its successor is not a warning about these pages.
NO_MKDOCS_2_WARNING=1 .venv-docs/bin/mkdocs build --strict --quiet
echo "documentation built: .site/index.html"
