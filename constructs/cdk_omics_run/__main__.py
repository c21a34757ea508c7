"""``python -m cdk_omics_run``: the ``cdk-omics-run`` command."""

from __future__ import annotations

import sys

from cdk_omics_run.cli import main

if __name__ == "__main__":
    sys.exit(main())
