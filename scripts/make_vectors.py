"""Outside word vectors for the benchmarks: word2vec on IMDB's 50,000 unlabelled reviews.

``python scripts/make_vectors.py --imdb ../shared/data/imdb --output imdb-w2v.txt``
(about 10 minutes on 2 cores) tokenizes the ``unsupervised`` split exactly as hfsent does
(spaCy ``blank:en``, lowercased, HTML line breaks removed: :func:`hfsent.tokenize.tokenize_dataset`),
trains skip-gram word2vec with gensim (one worker thread, a fixed seed, so that a rerun writes the
same vectors) and saves them in word2vec's text format, most frequent word first.

The unlabelled reviews are neither train nor test of any benchmark, so the vectors stand in
for vectors downloaded from elsewhere (no pretrained vectors are available offline): pass the
file to ``hfsent train --word-vectors``.  Nothing here reads a label.
"""

import argparse
import time
from pathlib import Path

from datasets import load_dataset
from gensim.models import Word2Vec

from hfsent.pretrain import TokenCorpus
from hfsent.tokenize import tokenize_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imdb", required=True, help="IMDB in the Hub layout (a folder or stanfordnlp/imdb)")
    parser.add_argument("--output", required=True, help="the word2vec text file to write")
    parser.add_argument("--dim", type=int, default=128, help="vector size (128: hfsent's embedding_dim)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-proc", type=int, default=2, help="processes for tokenizing")
    args = parser.parse_args()
    start = time.perf_counter()
    unlabeled = load_dataset(args.imdb, split="unsupervised")
    tokens = tokenize_dataset(unlabeled, "blank:en", True, args.num_proc)
    print(f"tokenized {len(tokens):,} reviews in {time.perf_counter() - start:.0f} s", flush=True)
    # workers=1: gensim's multi-threaded training is not reproducible even with a seed.
    model = Word2Vec(sentences=TokenCorpus([tokens]), vector_size=args.dim, window=5,
                     min_count=args.min_count, sg=1, negative=5, sample=1e-4, epochs=args.epochs,
                     seed=args.seed, workers=1)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.wv.save_word2vec_format(str(out), binary=False)
    print(f"wrote {len(model.wv):,} vectors of {args.dim} dimensions to {out} "
          f"in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
