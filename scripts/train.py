"""Train an hfsent model: ``python scripts/train.py --dataset PATH_OR_HUB_ID --output-dir DIR``."""

import argparse
import json
import logging

from hfsent.config import PRESETS, add_config_arguments, config_from_args
from hfsent.train import train


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default",
                        help="starting values; flags given below override them")
    parser.add_argument("--output-dir", default="runs/hfsent",
                        help="model folder to write (default: runs/hfsent)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --output-dir")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    config = config_from_args(args)
    result = train(config, args.output_dir, overwrite=args.overwrite)
    summary = {split: result.metrics[split] for split in ("validation", "test")}
    print(json.dumps(summary, indent=2))
    print(f"saved to {result.output_dir}")


if __name__ == "__main__":
    main()
