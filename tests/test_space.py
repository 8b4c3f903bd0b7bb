"""The Gradio Space: written, pushed to the local Hub, and driven in a real headless Chromium.

The app is started once, as Spaces starts it (``python app.py`` in the Space folder), for all the
browser tests.  They need the ``demo`` extra, Selenium, and Debian's ``chromium`` and
``chromium-driver``; they are skipped where those are missing, except under CI, where that fails.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from hfsent.explain import sentiment_trace
from hfsent.space import analyse, write_space

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
REVIEW = "not good , this was bad"


def _require(ok: bool, what: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {what}")
        pytest.skip(f"needs {what}")


@pytest.fixture(scope="module")
def space(trained, tmp_path_factory):
    """The Space of the trained fixture, served by its own app.py on 127.0.0.1."""
    try:
        import gradio  # noqa: F401
    except ImportError:
        _require(False, "the demo extra (pip install 'hfsent[demo]')")
    folder = write_space(str(trained.output_dir), tmp_path_factory.mktemp("space") / "space")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    log = (folder.parent / "app.log").open("w")
    app = subprocess.Popen([sys.executable, "app.py"], cwd=folder, env=env, stdout=log,
                           stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(240):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            assert app.poll() is None, (folder.parent / "app.log").read_text()[-3000:]
            time.sleep(0.5)
    yield folder, url
    app.terminate()
    app.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    _require(bool(CHROMIUM and DRIVER), "Debian's chromium and chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1300"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _predict_in_page(browser, url: str, review: str | None) -> tuple[str, list[tuple[str, str]], str]:
    """Type ``review`` (or click the first example), press Predict: the label, the colored words, the text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    wait = WebDriverWait(browser, 60)
    box = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#review textarea"))
    if review is None:  # click the first example instead of typing
        examples = ".gallery-item, [data-testid='example'] button, table td"
        browser.find_elements(By.CSS_SELECTOR, examples)[0].click()
        wait.until(lambda d: box.get_attribute("value"))
    else:
        box.send_keys(review)
    browser.find_element(By.CSS_SELECTOR, "#predict").click()
    spans = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#trace span.hfsent-word"))
    label = browser.find_element(By.CSS_SELECTOR, "#prediction [data-testid='label-output-value']").text
    words = [(s.text, s.value_of_css_property("background-color")) for s in spans]
    return label, words, box.get_attribute("value")


def test_the_space_predicts_and_colors_the_trace_in_a_real_browser(space, browser, trained):
    folder, url = space
    clf = trained.classifier
    label, words, _ = _predict_in_page(browser, url, REVIEW)
    assert label == clf.predict([REVIEW])[0]["label"]
    trace = sentiment_trace(clf, REVIEW)
    assert [w for w, _ in words] == trace.tokens
    _, html = analyse(clf, REVIEW)
    for _, color in words:  # the browser shows the colors explain computed, word by word
        rgb = color.removeprefix("rgba(").removeprefix("rgb(").rstrip(")").split(",")[:3]
        assert f"background:rgb({','.join(c.strip() for c in rgb)})" in html
    assert len({color for _, color in words}) > 1, "the colors follow the running sentiment"
    if os.environ.get("HFSENT_SCREENSHOT"):
        browser.save_screenshot(os.environ["HFSENT_SCREENSHOT"])


def test_an_example_review_can_be_clicked_and_predicted(space, browser, trained):
    label, words, text = _predict_in_page(browser, space[1], None)
    assert text and label == trained.classifier.predict([text])[0]["label"] and words


def test_the_space_folder_is_what_spaces_runs(space):
    folder, _ = space
    readme = (folder / "README.md").read_text()
    assert readme.startswith("---\n") and "\nsdk: gradio\n" in readme and "\napp_file: app.py\n" in readme
    assert (folder / "requirements.txt").read_text().strip().startswith("hfsent[demo]==")
    assert sorted(p.name for p in (folder / "model").iterdir()) == [
        "config.json", "hfsent_config.json", "metadata.json", "metrics.json", "model.weights.h5", "vocab.txt"]
    assert 'MODEL = str(Path(__file__).with_name("model"))' in (folder / "app.py").read_text()


def test_a_hub_model_is_linked_and_the_space_pushed_in_one_commit(trained, hub, tmp_path):
    pytest.importorskip("gradio")
    from hfsent.hub import push_space, push_to_hub

    push_to_hub(trained.output_dir, "tester/space-model")
    folder = write_space("tester/space-model", tmp_path / "space")
    assert "\nmodels:\n- tester/space-model\n" in (folder / "README.md").read_text()
    assert "MODEL = 'tester/space-model'" in (folder / "app.py").read_text()
    assert not (folder / "model").exists()
    commit = push_space(folder, "tester/demo")
    repo = hub.state.repos["spaces/tester/demo"]
    assert repo.sdk == "gradio" and len(repo.commits) == 2  # the initial commit and ours
    assert "/spaces/tester/demo/commit/" in commit.commit_url
    assert set(repo.commits[commit.oid]["files"]) == {".gitattributes", "README.md", "app.py",
                                                      "requirements.txt"}


def test_a_rating_model_or_a_missing_space_id_is_refused(rating_model, tmp_path):
    pytest.importorskip("gradio")
    with pytest.raises(ValueError, match="demos classifiers; this model predicts ratings"):
        write_space(str(rating_model.output_dir), tmp_path / "space")
    out = subprocess.run([sys.executable, "-m", "hfsent", "space", "--model", "x/y", "--output-dir",
                          str(tmp_path / "s"), "--push"], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.strip() == "hfsent: error: --push needs --space-id"


def test_a_hostile_model_name_stays_a_string_in_app_py_and_the_readme(trained, tmp_path):
    """The folder's name goes into app.py (Python), the front matter (YAML) and the heading (Markdown)."""
    import ast
    import re

    import yaml

    from hfsent.card import markdown_text
    from tests.nasty import NASTY

    pytest.importorskip("gradio")

    def written(name: str) -> tuple[ast.Module, dict, str]:
        model = tmp_path / "models" / name
        shutil.copytree(trained.output_dir, model)
        folder = write_space(str(model), tmp_path / "spaces" / str(len(list(tmp_path.glob("spaces/*")))))
        shutil.rmtree(model)
        tree = ast.parse((folder / "app.py").read_text(encoding="utf-8"))
        _, front, body = re.split(r"^---\n", (folder / "README.md").read_text(encoding="utf-8"), maxsplit=2,
                                  flags=re.MULTILINE)
        return tree, yaml.safe_load(front), body

    def shape(tree: ast.Module) -> list:
        return [type(node).__name__ + "".join(getattr(t, "id", "") for t in getattr(node, "targets", []))
                for node in ast.walk(tree) if not isinstance(node, ast.Constant)]

    plain_tree, plain_meta, plain_body = written("plain")
    for nasty in NASTY:
        name = nasty.replace("/", "_")  # a folder's name holds anything but "/" and NUL
        tree, meta, body = written(name)
        assert shape(tree) == shape(plain_tree), f"app.py gained code from {name!r}"
        values = {node.targets[0].id: node.value for node in tree.body if isinstance(node, ast.Assign)}
        assert ast.literal_eval(values["TITLE"]) == name
        assert meta == {**plain_meta, "title": f"{name} sentiment demo"}, "no key of its own, the name exact"
        assert body.replace(markdown_text(name), "plain") == plain_body
        assert not re.search(r"<(script|img)|\u2028|\u2029|^---$", body, re.MULTILINE)


def test_a_folder_name_that_is_not_utf8_is_written_readably(trained, tmp_path):
    """Bytes of a folder's name that are not UTF-8 cannot go into README.md or app.py as they
    are: they become U+FFFD there, and the Space is written."""
    pytest.importorskip("gradio")
    model = os.fsdecode(bytes(tmp_path) + b"/n\xffme")
    shutil.copytree(trained.output_dir, model)
    folder = write_space(model, tmp_path / "space")
    assert "n\ufffdme sentiment demo" in (folder / "README.md").read_text(encoding="utf-8")
    assert "TITLE = 'n\ufffdme'" in (folder / "app.py").read_text(encoding="utf-8")
