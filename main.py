"""The cdktf app: `make synth` (or `cdktf synth`) builds every stack of every stage, or of STAGE only.

Configuration is loaded and validated before the provider bindings are imported, so a bad value fails
in well under a second with a message naming the field."""

from __future__ import annotations

import os
import sys

from stacks.config import ConfigError, load_config


def main() -> int:
    try:
        config = load_config()
        stages = config.select(os.environ.get("STAGE"))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2

    # The jsii kernel (bundled with cdktf 0.21) still calls util.isArray, which Node 22 reports as deprecated
    # on every run: silence that one warning for the node process jsii spawns, so synth output stays clean.
    os.environ["NODE_OPTIONS"] = f"{os.environ.get('NODE_OPTIONS', '')} --disable-warning=DEP0044".strip()
    from cdktf import App

    from stacks.app import build_stacks
    from stacks.summary import print_summary

    app = App()
    # A one-stage synth (STAGE=prod) leaves out the shared pipeline, which deploys every stage.
    build_stacks(app, stages, pipeline=None if os.environ.get("STAGE") else config.pipeline)
    app.synth()
    print_summary(app.outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
