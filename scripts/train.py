"""Train an hfsent model: ``python scripts/train.py --dataset PATH_OR_HUB_ID --output-dir DIR``."""

import argparse
import json
import logging

from hfsent.config import PRESETS, add_config_arguments, config_from_args
from hfsent.hub import push_to_hub
from hfsent.train import train


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default",
                        help="starting values; flags given below override them")
    parser.add_argument("--output-dir", default="runs/hfsent",
                        help="model folder to write (default: runs/hfsent)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --output-dir")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run from its last completed epoch")
    hub = parser.add_argument_group("sharing on the Hugging Face Hub")
    hub.add_argument("--push", action="store_true", help="push the model folder to --repo-id after training")
    hub.add_argument("--repo-id", default=None, help="Hub repo to push to, e.g. USER/imdb-gru")
    hub.add_argument("--private", action="store_true", help="create the repo as private")
    hub.add_argument("--revision", default=None, help="branch to push to (created if missing)")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("gensim", "httpx", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    if args.push and not args.repo_id:
        parser.error("--push needs --repo-id")
    config = config_from_args(args)
    result = train(config, args.output_dir, overwrite=args.overwrite, repo_id=args.repo_id,
                   resume=args.resume)
    summary = {split: result.metrics[split] for split in ("validation", "test")}
    print(json.dumps(summary, indent=2))
    print(f"saved to {result.output_dir}")
    if args.push:
        commit = push_to_hub(result.output_dir, args.repo_id, private=args.private or None,
                             revision=args.revision)
        print(f"pushed: {commit.commit_url}")


if __name__ == "__main__":
    main()
