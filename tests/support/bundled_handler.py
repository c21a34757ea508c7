"""Runs the handler from a synthesized asset folder, the way Lambda would.

Usage: python bundled_handler.py ASSET_DIR < event.json

Only the asset folder is put ahead on the path, so the handler, its
``omics_run`` package and crhelper all come from the asset. boto3 comes from
the interpreter's environment, as the Lambda runtime provides its own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    asset_dir = Path(sys.argv[1]).resolve()
    sys.path.insert(0, str(asset_dir))
    sys.path.append(str(Path(__file__).resolve().parents[1]))  # tests/, for LambdaContext only
    import crhelper
    import omics_run_handler
    from events import LambdaContext

    for module in (crhelper, omics_run_handler):
        if not Path(module.__file__).resolve().is_relative_to(asset_dir):
            raise SystemExit(f"{module.__name__} was not loaded from the asset: {module.__file__}")
    omics_run_handler.handler(json.load(sys.stdin), LambdaContext())


if __name__ == "__main__":
    main()
