from pathlib import Path

import numpy as np
import pytest

from hfsent.draw import trace_html, trace_png
from hfsent.explain import layer_outputs, sentiment_trace
from hfsent.predict import SentimentClassifier

REPO = Path(__file__).resolve().parents[1]
TEXTS = ["The film was great and wonderful", "awful"]


def test_layer_outputs_are_aligned_with_tokens(trained):
    clf = trained.classifier
    out = layer_outputs(clf, TEXTS)
    units = clf.config.model.gru_units * (2 if clf.config.model.bidirectional else 1)
    assert out[0].tokens == ["the", "film", "was", "great", "and", "wonderful"]
    for item, text in zip(out, TEXTS):
        n = len(item.tokens)
        assert item.ids.shape == (n,)
        assert item.embeddings.shape == (n, clf.config.model.embedding_dim)
        assert item.gru_states.shape == (n, units)
        assert item.ids.tolist() == clf.encode([text])[0]
    emb = clf.model.get_layer("embedding").get_weights()[0]
    np.testing.assert_allclose(out[0].embeddings, emb[out[0].ids], rtol=1e-6)


def test_gru_states_match_the_model_for_a_unidirectional_last_state_model(trained):
    # With pooling="last" and one direction, the classifier sees the last GRU state.
    clf = trained.classifier
    import keras

    from hfsent.model import build_model

    cfg = clf.config.replace(bidirectional=False, pooling="last")
    model = build_model(cfg.model, len(clf.vocab))
    uni = SentimentClassifier(model, clf.vocab, cfg)
    [out] = layer_outputs(uni, TEXTS[:1])
    head = model.get_layer("output")
    expected = keras.ops.sigmoid(out.gru_states[-1] @ head.get_weights()[0] + head.get_weights()[1])
    np.testing.assert_allclose(float(np.asarray(expected)[0]), uni.predict_proba(TEXTS[:1])[0], rtol=1e-5)


def test_the_last_step_of_the_trace_equals_predict(trained):
    clf = trained.classifier
    for text in TEXTS + ["the plot was dreadful but the actor was brilliant and I loved it"]:
        trace = sentiment_trace(clf, text)
        assert len(trace.scores) == len(trace.tokens)
        assert trace.final == pytest.approx(float(clf.predict_proba([text])[0]), abs=1e-6)
        assert trace.scores[-1] == trace.final


def test_trace_pictures(trained, tmp_path):
    trace = sentiment_trace(trained.classifier, TEXTS[0])
    trace_png(trace, str(tmp_path / "t.png"))
    trace_html(trace, str(tmp_path / "t.html"))
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (tmp_path / "t.html").read_text()
    assert "wonderful" in html and "Final P(positive)" in html


def test_training_curves_are_saved_and_embedded_in_the_card(trained):
    assert (trained.output_dir / "training_curves.png").is_file()
    assert "![Training curves](training_curves.png)" in (trained.output_dir / "README.md").read_text()


@pytest.mark.parametrize("classes", [2, 3])
def test_hostile_label_names_and_tokens_are_text_in_the_page_and_the_picture(tmp_path, classes):
    """Label names come from the training data, tokens from the review: both stay text."""
    from html.parser import HTMLParser

    from hfsent.explain import Trace
    from tests.nasty import NASTY

    class Page(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.text, self.titles = [], [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.titles += [value for name, value in attrs if name == "title"]
            assert all(not name.startswith("on") for name, _ in attrs), attrs

        def handle_data(self, data):
            self.text.append(data)

    for i in range(0, len(NASTY) - classes + 1, classes):
        names = NASTY[i:i + classes]
        probabilities = np.tile(np.eye(classes)[-1] * 0.6 + 0.4 / classes, (len(NASTY), 1))
        trace = Trace(list(NASTY), probabilities, names)
        trace_html(trace, str(tmp_path / "t.html"))
        page = Page()
        page.feed((tmp_path / "t.html").read_text(encoding="utf-8"))
        assert set(page.tags) == {"html", "head", "meta", "title", "style", "body", "h1", "p", "span"}
        text = "".join(page.text)
        assert all(name in text for name in names) and all(token in text for token in NASTY)
        assert {f"P({names[-1]})={probabilities[0, -1]:.3f}"} == set(page.titles)
        trace_png(trace, str(tmp_path / "t.png"))  # a "$...$" name is not parsed as math
