"""SentimentClassifier: text in, the training-time preprocessing, labels and scores out."""

import re

import numpy as np
import pytest

from hfsent.predict import SentimentClassifier
from hfsent.preflight import read_lines
from tests.conftest import NEGATION_PROBES

PROBES = list(NEGATION_PROBES)


def test_save_load_gives_identical_predictions(trained, tmp_path):
    loaded = SentimentClassifier.load(trained.classifier.save(tmp_path / "again"))
    np.testing.assert_array_equal(loaded.predict_proba(PROBES), trained.classifier.predict_proba(PROBES))


def test_outputs_are_a_pipelines_label_and_score(trained):
    results = trained.classifier.predict(PROBES)
    assert [r["label"] for r in results] == list(NEGATION_PROBES.values())
    for r in results:
        assert set(r) == {"label", "score", "probability_positive", "scores"}  # the binary keys, and scores
        expected = r["probability_positive"] if r["label"] == "positive" else 1 - r["probability_positive"]
        assert r["score"] == pytest.approx(expected) and r["score"] >= 0.5
        assert r["scores"] == pytest.approx({"negative": 1 - r["probability_positive"],
                                             "positive": r["probability_positive"]})
    assert trained.classifier.predict(PROBES[:1], top_k=1) == trained.classifier.ranked(PROBES[:1], top_k=1)


def test_prediction_does_not_depend_on_batch_company(trained):
    clf = trained.classifier
    alone = clf.predict_proba([PROBES[1]])
    mixed = clf.predict_proba([PROBES[1], "film " * 30, PROBES[0]], batch_size=2)
    np.testing.assert_allclose(alone[0], mixed[0], rtol=1e-5)


def test_empty_whitespace_non_string_and_none_texts(trained):
    clf = trained.classifier
    with pytest.raises(ValueError, match=r"position \[0, 2\] contain no tokens"):
        clf.predict(["", "fine", " \n\t "])
    with pytest.raises(TypeError, match="text 0 is int"):
        clf.predict([42])
    with pytest.raises(TypeError, match="text 1 is NoneType"):
        clf.predict(["fine", None])
    with pytest.raises(TypeError, match="single string"):
        clf.predict("fine")


def test_a_million_characters_are_truncated_to_max_length(trained):
    clf = trained.classifier
    huge = "the film was not awful " * 45_000  # ~1,000,000 characters
    assert len(huge) >= 1_000_000
    [ids] = clf.encode([huge])
    assert len(ids) == clf.config.preprocessing.max_length
    np.testing.assert_allclose(clf.predict_proba([huge]), clf.predict_proba([" ".join(huge.split()[:32])]),
                               rtol=1e-6)


def test_emoji_control_characters_and_mixed_scripts(trained):
    texts = ["the film was great 😀🎬", "awful\x00\x07 movie\x1b[31m", "великолепный film 映画 great",
             "\u200b great"]
    results = trained.classifier.predict(texts)
    assert all(0.0 <= r["probability_positive"] <= 1.0 for r in results)
    assert trained.classifier.encode(["великолепный"]) == [[1]], "an unknown word is [UNK]"


def test_rating_predictions_are_ordered_and_clipped_to_the_scale(rating_model):
    clf = SentimentClassifier.load(rating_model.output_dir)
    out = clf.predict(["a great wonderful excellent film", "awful terrible boring worst"])
    assert out[0]["rating"] > out[1]["rating"]
    assert all(1.0 <= r["rating"] <= 10.0 and r["rating_rounded"] == round(r["rating"]) for r in out)
    raw = clf.predict_ids([[2] * 5])
    assert clf.clip_ratings(raw * 100)[0] == 10.0


def test_read_lines_names_the_source_and_the_bad_byte():
    assert read_lines(b"a\n\n  \nb\n", "x") == ["a", "b"]
    with pytest.raises(ValueError, match=r"in.txt is not valid UTF-8: byte 0xe9 at offset 3"):
        read_lines("caf\xe9".encode("latin-1"), "in.txt")


@pytest.mark.parametrize("value, path", [
    ("USER/imdb-gru", False), ("tester/card", False), ("./m", True), ("~/m", True), ("/abs/m", True),
    ("a/b/c", True), ("runs/hfsent", True), ("C:\\models\\m", True)])
def test_what_looks_like_a_path_is_never_sent_to_the_hub(value, path):
    from hfsent.locate import looks_like_path

    assert looks_like_path(value) is path
    if path:
        with pytest.raises(FileNotFoundError, match="no model folder at " + re.escape(value)):
            SentimentClassifier.from_pretrained(value)


def test_any_iterable_of_texts_and_no_silent_batch_size(trained):
    clf = trained.classifier
    expected = clf.predict_proba(PROBES)
    np.testing.assert_array_equal(clf.predict_proba(text for text in PROBES), expected)
    assert [r["label"] for r in clf.predict(iter(PROBES))] == list(NEGATION_PROBES.values())
    for bad in (0, -1):
        with pytest.raises(ValueError, match=f"batch_size must be a whole number ≥ 1, got {bad}"):
            clf.predict(PROBES, batch_size=bad)


def test_a_10_mb_review_is_cut_before_tokenizing_in_predict_the_handler_and_the_space(trained, monkeypatch):
    """The tokenizer's work per text is bounded by max_length, whoever sends the text."""
    import hfsent.preprocess
    from hfsent.serving import EndpointHandler
    from hfsent.space import analyse

    longest = []
    real = hfsent.preprocess.tokenize

    def measured(texts, *args, **kwargs):
        texts = list(texts)
        longest.append(max(len(t) for t in texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(hfsent.preprocess, "tokenize", measured)
    clf = trained.classifier
    huge = "the film was not awful " * 450_000  # ~10 MB
    bound = 20 * clf.config.preprocessing.max_length
    expected = clf.predict_proba([" ".join(huge.split()[:32])])
    handler = EndpointHandler(str(trained.output_dir))
    calls = (lambda: clf.predict_proba([huge]), lambda: handler({"inputs": huge}), lambda: analyse(clf, huge))
    for call in calls:
        longest.clear()
        call()
        assert longest and max(longest) <= bound, f"tokenized {max(longest):,} characters"
    np.testing.assert_allclose(clf.predict_proba([huge]), expected, rtol=1e-6)


def test_a_text_after_a_run_of_spaces_keeps_its_words(trained):
    """The cut to a bounded length starts at the first non-space, so leading padding cannot
    push a review's words past it."""
    clf = trained.classifier
    padded = " " * (20 * clf.config.preprocessing.max_length + 5) + "a great wonderful film"
    assert clf.tokens([padded]) == clf.tokens(["a great wonderful film"])
