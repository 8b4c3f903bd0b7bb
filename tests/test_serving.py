"""The Inference Endpoints handler, run on a repo pulled from the local Hub.

The last test runs it in a separate environment that holds only what the pushed
``requirements.txt`` installs.  CI points ``HFSENT_SERVING_PYTHON`` at such an environment (the
built wheel, installed into a fresh venv) and ``HFSENT_WHEEL_DIR`` at the wheel; elsewhere that
test is skipped.
"""

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import snapshot_download

from hfsent import __version__
from hfsent.hub import push_to_hub
from hfsent.predict import SentimentClassifier
from hfsent.serving import answer_requests

REVIEWS = ["A moving, beautifully acted film.", "this was bad , not good"]


def assert_same_answers(got, expected, atol: float = 1e-6) -> None:
    """The same labels in the same order, and scores equal within float noise: the company a
    text is batched with changes the last bits of its scores (6e-8 seen on 2 cores)."""
    assert [[r["label"] for r in ranked] for ranked in got] == [[r["label"] for r in e] for e in expected]
    np.testing.assert_allclose([r["score"] for ranked in got for r in ranked],
                               [r["score"] for e in expected for r in e], rtol=0, atol=atol)


@pytest.fixture(scope="module")
def endpoint_repo(trained, hub, tmp_path_factory) -> Path:
    """The whole repo as an Endpoint downloads it: handler.py and requirements.txt included."""
    push_to_hub(trained.output_dir, "tester/served")
    return Path(snapshot_download("tester/served", cache_dir=tmp_path_factory.mktemp("endpoint")))


def _handler_class(repo: Path):
    spec = importlib.util.spec_from_file_location("handler", repo / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EndpointHandler


def test_the_pushed_handler_answers_like_a_text_classification_pipeline(endpoint_repo, trained):
    assert (endpoint_repo / "requirements.txt").read_text() == f"hfsent=={__version__}\n"
    assert "with its custom handler (`handler.py`" in (endpoint_repo / "README.md").read_text()
    handler = _handler_class(endpoint_repo)(str(endpoint_repo))
    answer = handler({"inputs": REVIEWS})
    expected = trained.classifier.predict(REVIEWS)
    assert len(answer) == 2
    for ranked, predicted in zip(answer, expected):
        assert [set(r) for r in ranked] == [{"label", "score"}] * 2
        assert ranked[0]["label"] == predicted["label"]
        assert ranked[0]["score"] == pytest.approx(predicted["score"], abs=1e-6)
        assert ranked[0]["score"] >= ranked[1]["score"]
        assert sum(r["score"] for r in ranked) == pytest.approx(1.0, abs=1e-6)
    assert_same_answers(handler({"inputs": REVIEWS[0]}), answer[:1])  # one string is one input
    assert_same_answers(handler({"inputs": REVIEWS, "parameters": {"top_k": 1}}), [a[:1] for a in answer])
    json.dumps(answer)  # plain JSON: what the Endpoint sends back


def test_a_malformed_request_is_a_clear_error(endpoint_repo):
    handler = _handler_class(endpoint_repo)(str(endpoint_repo))
    with pytest.raises(ValueError, match='the request must be JSON of the form {"inputs"'):
        handler({"text": "hi"})
    with pytest.raises(ValueError, match="top_k must be a whole number ≥ 1, got 0"):
        handler({"inputs": "hi", "parameters": {"top_k": 0}})


def test_loading_for_prediction_never_downloads_the_serving_files(trained, tmp_path):
    push_to_hub(trained.output_dir, "tester/served-pull")
    SentimentClassifier.from_pretrained("tester/served-pull", cache_dir=tmp_path)
    names = {p.name for p in tmp_path.rglob("*") if p.is_file() or p.is_symlink()}
    assert "handler.py" not in names and "requirements.txt" not in names and "vocab.txt" in names


def test_the_handler_runs_with_only_what_requirements_txt_installs(endpoint_repo):
    python, wheels = os.environ.get("HFSENT_SERVING_PYTHON"), os.environ.get("HFSENT_WHEEL_DIR")
    if not (python and wheels):
        if os.environ.get("CI"):
            pytest.fail("CI must set HFSENT_SERVING_PYTHON and HFSENT_WHEEL_DIR")
        pytest.skip("needs HFSENT_SERVING_PYTHON (a fresh venv) and HFSENT_WHEEL_DIR (the built wheel)")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", wheels,
                    "-r", str(endpoint_repo / "requirements.txt")], check=True)
    code = ("import json, sys; sys.path.insert(0, '.'); from handler import EndpointHandler; "
            "print(json.dumps(EndpointHandler('.')({'inputs': json.loads(sys.argv[1])})))")
    # -I: no PYTHONPATH, no user site, and not this checkout: hfsent comes from that venv only.
    out = subprocess.run([python, "-I", "-c", code, json.dumps(REVIEWS)], cwd=endpoint_repo,
                         capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert [len(a) for a in answer] == [2, 2] and {r["label"] for r in answer[0]} == {"negative", "positive"}
    where = subprocess.run([python, "-I", "-c", "import hfsent; print(hfsent.__file__)"], capture_output=True,
                           text=True, cwd=endpoint_repo, check=True).stdout
    assert "site-packages" in where


def test_requests_batched_together_get_their_own_answers_and_errors(trained):
    clf = trained.classifier
    good, bad, top = ["the film was great"], ["fine", " "], ["the plot was awful", "the film was not great"]
    answers = answer_requests(clf, [(good, None), (bad, None), (top, 1)])
    assert isinstance(answers[1], ValueError) and "position [1] contain no tokens" in str(answers[1])
    assert_same_answers(answers[0], clf.ranked(good))
    assert_same_answers(answers[2], clf.ranked(top, top_k=1))
