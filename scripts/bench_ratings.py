"""Star ratings (1-10) on IMDB's rated train reviews, test carved by movie.

``python scripts/bench_ratings.py --imdb ../shared/data/imdb --ratings ../shared/data/imdb-ratings
--movies ../shared/data/imdb-movies`` (about 10 minutes on 2 cores) writes the "Star ratings"
section of BENCHMARKS.md in place, between its markers.  ``scripts/bench.py --ratings DIR``
writes the same section in its own run (:func:`section`); without ``--ratings`` it keeps the
section that is there.

The ratings file holds IMDB's train split only; each review's movie comes from the movies file,
joined by text (:func:`bench_classes.reviews_with_movies`).  hfsent carves test (20%) and then
validation (10% of the rest) by movie (``--group-column movie_id``), so no movie is on two sides.
One run of the rating default trains the GRU, fits the ridge linear half, and fits the blend
weight on validation by squared error; the stage record gives each half alone, so the table
shows the blend, the GRU alone and the ridge alone from that one run, test scored once each.
Before it, the ridge's ``wide_alpha`` (100) is checked against the others of ``ALPHAS`` on the
same validation split (validation only).
"""

import tempfile
import time
from pathlib import Path

import numpy as np
from bench_classes import ratings_parser, reviews_with_movies
from benchmarks import write_section

from hfsent.config import Config, preset
from hfsent.metrics import score_regression
from hfsent.ngrams import count_matrix
from hfsent.train import prepare_data, train

BEGIN, END = "<!-- star-ratings: written by scripts/bench_ratings.py -->", "<!-- /star-ratings -->"
ALPHAS = (3.0, 10.0, 30.0, 100.0, 300.0)


def ridge_alphas(config: Config) -> list[str]:
    """Validation R² (predictions clipped to the scale) of the ridge half alone, per alpha."""
    from sklearn.linear_model import Ridge

    data = prepare_data(config)
    args = (len(data.vocab), config.model.wide_buckets, data.max_length)
    (x, y), (xv, yv) = (count_matrix(data.splits[s], *args) for s in ("train", "validation"))
    rows = ["| ridge alpha | validation R² of the ridge half alone |", "|---|---|"]
    for alpha in ALPHAS:
        predicted = np.clip(Ridge(alpha=alpha, solver="sparse_cg").fit(x, y).predict(xv),
                            config.model.rating_min, config.model.rating_max)
        r2 = score_regression(predicted, yv)["r2"]
        default = " (the default)" if alpha == config.training.wide_alpha else ""
        rows.append(f"| {alpha:g}{default} | {r2:.4f} |")
        print(rows[-1], flush=True)
    return rows


def section(imdb: str, ratings: str, movies: str, limit: int | None = None) -> str:
    """The "Star ratings" section, markers included: the alpha table, then one run of the rating
    default (``limit`` reviews only, for a smoke test)."""
    df = reviews_with_movies(imdb, ratings, movies)
    df = df.sample(n=limit, random_state=0) if limit else df
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ratings.parquet"
        df[["text", "rating", "movie_id"]].to_parquet(path, index=False)
        config = preset("default", task="rating", label_column="rating", dataset=str(path),
                        group_column="movie_id", dataset_id="stanfordnlp/imdb (star ratings)")
        alphas = ridge_alphas(config)
        start = time.perf_counter()
        result = train(config, None, verbose=2)
        seconds = time.perf_counter() - start
    m, wide, n = result.metrics, result.stage("wide")["figures"], result.metrics["num_examples"]
    val, test = m["validation"], m["test"]
    rows = ["| model | validation R² (by movie) | test R² (by movie) | test MAE | test R², rounded stars |",
            "|---|---|---|---|---|",
            f"| hfsent rating default: GRU + ridge, GRU weight {wide['gru_weight']:.2f} (fitted on "
            f"validation) | {val['r2']:.4f} | **{test['r2']:.4f}** | {test['mae']:.4f} | "
            f"{test['r2_rounded']:.4f} |"]
    rows += [f"| its {name} half alone | {wide[key]['validation']:.4f} | {wide[key]['test']:.4f} | | |"
             for name, key in (("GRU", "gru"), ("ridge", "linear"))]
    fit = result.stage("fit")["figures"]
    intro = (f"{n['train']:,} training reviews, {n['validation']:,} validation and {n['test']:,} test "
             f"reviews, both carved by movie; {fit['epochs_trained']} epochs (the best, restored: "
             f"epoch {fit['best_epoch']}); {seconds:.0f} s end to end. Predictions are clipped to 1-10.")
    return "\n".join([BEGIN, "## Star ratings (IMDB train ratings, test carved by movie)", "", intro, "",
                      *rows, "", *alphas, END])


def main() -> None:
    parser = ratings_parser(__doc__)
    parser.add_argument("--limit", type=int, default=None, help="use only this many reviews (a smoke test)")
    args = parser.parse_args()
    write_section(Path(args.output), BEGIN, END, section(args.imdb, args.ratings, args.movies, args.limit))
    print(f"wrote the star-ratings section of {args.output}")


if __name__ == "__main__":
    main()
