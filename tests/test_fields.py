"""Several text fields (``--text-column title,body``): joined the same way in training, streaming,
predict (dicts and dataset columns), score, the Endpoint handler and the Space; their names
checked wherever a model folder is read."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from hfsent.errors import InputError
from hfsent.fields import SEPARATOR, join, parse, record_text
from tests.conftest import NEGATIVE, POSITIVE, make_reviews, tiny_config
from tests.nasty import NASTY
from tests.test_cli import installed_hfsent, user_error
from tests.test_serving import assert_same_answers

FIELDS = "title,body"


def make_titled(n: int, seed: int) -> pd.DataFrame:
    """Reviews whose title holds a polarity word and whose body is a short review of the same
    label; every 7th has no title, and one row has neither (dropped as empty)."""
    df = make_reviews(n, seed)
    titles = [f"{(POSITIVE if y else NEGATIVE)[i % 6].capitalize()} film" for i, y in enumerate(df["label"])]
    df = pd.DataFrame({"title": titles, "body": df["text"], "label": df["label"]})
    df.loc[df.index % 7 == 3, "title"] = None
    df.loc[5, ["title", "body"]] = None
    return df


@pytest.fixture(scope="module")
def titled_csv(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("titled")
    make_titled(80, seed=1).to_csv(root / "train.csv", index=False)
    make_titled(30, seed=2).to_csv(root / "test.csv", index=False)
    return f"train={root / 'train.csv'},test={root / 'test.csv'}"


@pytest.fixture(scope="module")
def titled(titled_csv, tmp_path_factory):
    from hfsent.train import train

    out = tmp_path_factory.mktemp("m") / "titled"
    return train(tiny_config(titled_csv, text_column=FIELDS, epochs=4), out, verbose=0)


def test_names_are_parsed_and_checked_and_one_field_is_its_text():
    assert parse("title, body") == ["title", "body"] and parse("text") == ["text"]
    for bad, message in (("a,a", "names a field twice"), ("a,,b", "text field 1 must be a name"),
                         ("ok,bad\x1b[2J", "text field 1 holds the character U+001B"),
                         (",".join("x" * 20), "1 to 16 text fields"), ("é" * 101, "text field 0 must")):
        with pytest.raises(InputError, match=re.escape(message)):
            parse(bad)
    assert join(["A film. <br />Fine"]) == "A film. <br />Fine"  # one field: the text, untouched
    assert join(["Great", "Loved it."]) == f"Great {SEPARATOR} Loved it." and join([None, " "]) == ""
    record = {"title": "Great", "body": "Loved it."}
    assert record_text(record, ["title", "body"]) == join(["Great", "Loved it."])
    for record, message in (({"title": "x"}, "missing 'body'"), ({"title": "x", "body": "y", "stars": "5"},
                            "unknown 'stars'"), ({"title": "x", "body": 5}, "input\\['body'\\] is int")):
        with pytest.raises(InputError, match=message):
            record_text(record, ["title", "body"])


def test_the_fields_are_joined_the_same_eagerly_and_streamed(titled_csv):
    from hfsent.data import load_raw, normalize_split
    from hfsent.streaming import normalize_stream
    from hfsent.tokenize import tokenize

    config = tiny_config(titled_csv, text_column=FIELDS)
    eager = normalize_split(load_raw(titled_csv)["train"], config)
    streamed = list(normalize_stream(load_raw(titled_csv, streaming=True)["train"], config).with_format(None))
    raw = make_titled(80, seed=1)
    kept = raw.drop(index=5)
    assert list(eager["text"]) == [s["text"] for s in streamed] == [
        join([None if pd.isna(t) else t, b]) for t, b in zip(kept["title"], kept["body"])]
    assert eager.column_names == ["text", "label"] and len(eager) == 79  # the row with neither is dropped
    assert tokenize([eager["text"][3]], "blank:en", True)[0][0] == SEPARATOR  # no title: the separator first


def test_train_predict_with_dicts_and_columns_then_score(titled, titled_csv, tmp_path):
    from hfsent.metrics import score_dataset
    from hfsent.predict import SentimentClassifier
    from hfsent.predictions import predict_dataset

    folder = titled.output_dir
    saved = json.loads((folder / "hfsent_config.json").read_text())
    assert saved["data"]["text_column"] == FIELDS
    clf = SentimentClassifier.load(folder)
    assert clf.text_fields == ["title", "body"] and clf.vocab.encode([SEPARATOR]) != [1]  # learned, not [UNK]
    records = [{"title": "Great film", "body": "The plot was superb."},
               {"title": "Awful film", "body": "The actor was dreadful."}]
    by_dict = clf.predict(records)
    assert by_dict == clf.predict([join(list(r.values())) for r in records])
    assert [r["label"] for r in by_dict] == ["positive", "negative"]
    with pytest.raises(InputError, match="input 1 must have the fields 'title', 'body': missing 'body'"):
        clf.predict([records[0], {"title": "Great film"}])

    test_csv = titled_csv.split("test=")[1]
    rows, split = predict_dataset(clf, test_csv, tmp_path / "p.jsonl")
    written = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    raw = make_titled(30, seed=2)
    assert rows == 30 and written[0]["text"] == {"title": raw["title"][0], "body": raw["body"][0]}
    assert written[5]["label"] is None and written[3]["text"]["title"] is None  # neither / no title
    usable = [w for w in written if w["label"] is not None]
    assert [w["label"] for w in usable] == [r["label"] for r in clf.predict(
        [{k: v or "" for k, v in w["text"].items()} for w in usable])]
    with pytest.raises(InputError, match=r"this model reads 2 text field\(s\) \(title, body\); "
                                         "--text-column names 1"):
        predict_dataset(clf, test_csv, tmp_path / "q.jsonl", text_column="body")

    scores = score_dataset(clf, test_csv)
    labels = [y for y, t, b in zip(raw["label"], raw["title"], raw["body"])
              if not (pd.isna(t) and pd.isna(b))]
    assert scores["num_examples"] == 29
    assert scores["accuracy"] == pytest.approx(sum(
        w["label"] == ("positive" if y else "negative") for w, y in zip(usable, labels)) / 29)


def test_the_handler_and_the_server_take_dicts(titled):
    from hfsent.serving import EndpointHandler, answer_requests, parse_request

    handler = EndpointHandler(str(titled.output_dir))
    record = {"title": "Great film", "body": "The plot was superb."}
    one = handler({"inputs": record})
    both = handler({"inputs": [record, {"title": "", "body": "The actor was dreadful."}]})
    assert one == both[:1] and [r["label"] for r in both[0]] == [r["label"] for r in
                                                                  titled.classifier.ranked([record])[0]]
    assert both[1][0]["label"] == "negative"
    with pytest.raises(ValueError, match="input 0 must have the fields 'title', 'body': unknown 'text'"):
        handler({"inputs": {"title": "x", "body": "y", "text": "z"}})
    with pytest.raises(ValueError, match=r'"inputs"\[0\] is dict, not a text or an object of texts'):
        parse_request({"inputs": [{"title": 5}]})
    [good, bad] = answer_requests(titled.classifier, [parse_request({"inputs": record}),
                                                      parse_request({"inputs": {"title": "x"}})])
    assert good == one and isinstance(bad, InputError)


def test_the_local_server_takes_dicts(titled):
    import threading
    import time

    import httpx
    import uvicorn

    from hfsent.server import Limits, create_app, listen_socket, load_served

    classifier, info = load_served(str(titled.output_dir))
    assert info["text_fields"] == ["title", "body"]
    sock = listen_socket("127.0.0.1", 0)
    uv = uvicorn.Server(uvicorn.Config(create_app(classifier, info, Limits()), log_config=None,
                                       access_log=False, lifespan="on"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not uv.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        record = {"title": "Great film", "body": "The plot was superb."}
        answer = httpx.post(url, json={"inputs": [record, record]}, timeout=60)
        assert answer.status_code == 200
        assert_same_answers(answer.json(), classifier.ranked([record, record]))
        missing = httpx.post(url, json={"inputs": {"body": "x"}}, timeout=60)
        assert missing.status_code == 422 and "missing 'title'" in missing.json()["error"]
    finally:
        uv.should_exit = True
        thread.join(10)


def _demo_parts(demo):
    import gradio as gr

    boxes = [b for b in demo.blocks.values() if isinstance(b, gr.Textbox)]
    [run] = [f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "run"][:1]
    return boxes, run


def test_the_space_has_one_box_per_field(titled):
    pytest.importorskip("gradio")
    from hfsent.space import analyse, build_demo

    demo = build_demo(str(titled.output_dir))
    boxes, run = _demo_parts(demo)
    assert [(b.label, b.elem_id) for b in boxes] == [("title", "field-0"), ("body", "field-1")]
    scores, html = run("Great film", "The plot was superb.")
    record = {"title": "Great film", "body": "The plot was superb."}
    assert (scores, html) == analyse(titled.classifier, record)
    assert max(scores, key=scores.get) == titled.classifier.predict([record])[0]["label"]
    assert SEPARATOR in html  # the trace shows the separator as the word the model read


def _with_fields(src: Path, dst: Path, text_column: str) -> Path:
    shutil.copytree(src, dst)
    path = dst / "hfsent_config.json"
    saved = json.loads(path.read_text())
    saved["data"]["text_column"] = text_column
    path.write_text(json.dumps(saved))
    return dst


def test_hostile_field_names_are_refused_or_stay_plain_labels(titled, tmp_path):
    pytest.importorskip("gradio")
    from hfsent.fields import MAX_FIELDS
    from hfsent.predict import SentimentClassifier
    from hfsent.space import build_demo, write_space

    def space_files(folder: Path) -> list[str]:
        written = write_space(str(folder), folder.parent / "space")
        return [(written / name).read_text() for name in ("app.py", "README.md")]

    accepted, refused = [], []
    for nasty in NASTY + ["x" * 101, "bidi\u202eoverride"]:
        try:
            accepted += parse(nasty.replace(",", ";"))  # stripped of surrounding whitespace
        except InputError as err:
            refused.append((nasty.replace(",", ";"), str(err).replace("text field 0", "text field 1")))
    accepted = list(dict.fromkeys(accepted))  # "---" and "\n---\n" strip to the same name
    assert len(refused) >= 4 and len(accepted) >= 12
    for i, (name, message) in enumerate(refused):  # refused on load as on the command line
        with pytest.raises(InputError, match=re.escape(message)):
            SentimentClassifier.load(_with_fields(titled.output_dir, tmp_path / f"r{i}", f"title,{name}"))
    plain = space_files(_with_fields(titled.output_dir, tmp_path / "plain" / "model", "title,body"))
    for i, names in enumerate((accepted[:MAX_FIELDS], accepted[MAX_FIELDS:])):
        if not names:
            continue
        folder = _with_fields(titled.output_dir, tmp_path / f"m{i}" / "model", ",".join(names))
        boxes, _ = _demo_parts(build_demo(str(folder)))
        assert [b.label for b in boxes] == names
        assert [b.elem_id for b in boxes] == [f"field-{j}" for j in range(len(names))]
        assert space_files(folder) == plain  # the names are read from the model, never written there
        clf = SentimentClassifier.load(folder)
        texts = [f"word{j}" for j in range(len(names))]
        assert clf.predict([dict(zip(names, texts))]) == clf.predict([join(texts)])


def test_a_wrong_or_missing_field_is_one_line_from_the_installed_command(titled, titled_csv, tmp_path):
    hfsent = installed_hfsent()
    test_csv = titled_csv.split("test=")[1]
    train_csv = titled_csv.split(",")[0].split("=")[1]
    model = str(titled.output_dir)
    runs = {
        "this model reads 2 text field(s) (title, body); --text-column names 1":
            ["predict", "--model", model, "--dataset", test_csv, "--text-column", "body", "--output-file",
             str(tmp_path / "p.jsonl")],
        "no text column 'headline' in the data (--text-column)":
            ["train", "--dataset", train_csv, "--text-column", "headline,body", "--output-dir",
             str(tmp_path / "out")],
        "--text-column names a field twice":
            ["train", "--dataset", train_csv, "--text-column", "body,body", "--output-dir",
             str(tmp_path / "o2")],
    }
    for message, args in runs.items():
        assert user_error(subprocess.run([hfsent, *args], capture_output=True, text=True)).startswith(message)
    assert not (tmp_path / "out").exists() and not (tmp_path / "p.jsonl").exists()


def test_a_streamed_model_reads_the_fields_too(titled_csv, tmp_path):
    from hfsent.train import train

    result = train(tiny_config(titled_csv, text_column=FIELDS, epochs=2, streaming=True), tmp_path / "s",
                   verbose=0)
    clf = result.classifier
    assert clf.text_fields == ["title", "body"] and clf.vocab.encode([SEPARATOR]) != [1]
    assert len(clf.predict([{"title": "Great film", "body": "Superb."}])) == 1


def test_the_space_app_reads_each_field_in_a_real_browser(titled, tmp_path):
    """The written Space, run as Spaces runs it, with a field name that is HTML: the page shows it
    as a label and predicts what predict does for the same record."""
    import os
    import socket
    import sys
    import time
    import urllib.request

    from tests.test_space import CHROMIUM, DRIVER, _require

    pytest.importorskip("gradio")
    _require(bool(CHROMIUM and DRIVER), "Debian's chromium and chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from hfsent.predict import SentimentClassifier
    from hfsent.space import write_space

    hostile = "<img src=x onerror=alert(1)>"
    folder = write_space(str(_with_fields(titled.output_dir, tmp_path / "model", f"title,{hostile}")),
                         tmp_path / "space")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    app = subprocess.Popen([sys.executable, "app.py"], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1300"):
        options.add_argument(flag)
    browser = None
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                assert app.poll() is None, "the Space app exited"
                time.sleep(0.5)
        browser = webdriver.Chrome(service=Service(DRIVER), options=options)
        browser.get(url)
        wait = WebDriverWait(browser, 60)
        title = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#field-0 textarea"))
        title.send_keys("Awful film")
        browser.find_element(By.CSS_SELECTOR, "#field-1 textarea").send_keys("The actor was dreadful.")
        browser.find_element(By.CSS_SELECTOR, "#predict").click()
        spans = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#trace span.hfsent-word"))
        words = [s.text for s in spans]
        label = browser.find_element(By.CSS_SELECTOR, "#prediction [data-testid='label-output-value']").text
        record = {"title": "Awful film", hostile: "The actor was dreadful."}
        clf = SentimentClassifier.load(tmp_path / "model")
        assert label == clf.predict([record])[0]["label"]
        assert words == clf.tokens([record])[0] and SEPARATOR in words
        assert hostile in browser.find_element(By.CSS_SELECTOR, "#field-1").text  # shown as text
        assert not browser.find_elements(By.CSS_SELECTOR, "img[src='x']")  # not as an element
    finally:
        if browser is not None:
            browser.quit()
        app.terminate()
        app.wait(timeout=30)


def test_the_card_names_the_fields_as_plain_text(titled):
    from hfsent.card import build_card, markdown_text

    def body(text_column: str) -> str:  # the whole card: its YAML front matter names no field
        return str(build_card(titled.classifier.config.replace(text_column=text_column), titled.metrics,
                              "me/model"))

    plain = body("title,body")
    assert "It reads 2 text fields, title, body,\njoined in that order with the word `xxfld`" in plain
    assert "It reads" not in body("text")  # one field: the card as before
    for nasty in NASTY:
        try:
            [_, name] = parse(f"title,{nasty.replace(',', ';')}")
        except InputError:
            continue
        assert body(f"title,{name}").replace(markdown_text(name), "body") == plain, name


@pytest.mark.parametrize("streaming", [False, True])
def test_the_unlabelled_split_that_word2vec_reads_is_joined_too(tmp_path, streaming):
    from hfsent.data import load_unlabeled
    from tests.conftest import write_hub_layout

    unlabelled = make_titled(12, seed=3).assign(label=-1)
    root = write_hub_layout(tmp_path / "d", {"train": make_titled(12, seed=1), "unsupervised": unlabelled})
    texts = load_unlabeled(tiny_config(root, text_column=FIELDS, streaming=streaming))
    expected = [join([None if pd.isna(t) else t, None if pd.isna(b) else b])
                for t, b in zip(unlabelled["title"], unlabelled["body"])]
    assert [row["text"] for row in texts] == expected and expected[5] == ""  # word2vec reads "", not None


EXPORT_RECORDS = [{"title": "Great film", "body": "The plot was superb."},
                  {"title": "", "body": "The actor was dreadful."},
                  {"title": "  ", "body": "Loved it<br />all"},
                  {"title": "Awful film", "body": "\u2003"}]


def test_the_export_takes_one_tensor_per_field_and_joins_them_as_predict(titled, tmp_path):
    import numpy as np
    import tensorflow as tf

    from hfsent.export import EXPORT_INFO, export_saved_model, inputs_said

    folder = export_saved_model(titled.output_dir, tmp_path / "1")
    loaded = tf.saved_model.load(str(folder))
    serve, encode = loaded.signatures["serving_default"], loaded.signatures["encode"]
    assert set(serve.structured_input_signature[1]) == set(encode.structured_input_signature[1]) == {"title",
                                                                                                     "body"}
    both_blank = {"title": " ", "body": "\t"}  # no text at all: refused by predict, NaN here

    def tensors(records):
        return {name: tf.constant([r[name] for r in records]) for name in ("title", "body")}

    clf = titled.classifier
    out = serve(**tensors([*EXPORT_RECORDS, both_blank]))
    np.testing.assert_allclose(out["scores"].numpy()[:4], clf.class_probabilities(EXPORT_RECORDS), atol=1e-5)
    assert np.isnan(out["scores"].numpy()[4]).all() and out["label"].numpy()[4] == -1
    ids = encode(**tensors(EXPORT_RECORDS))
    assert [row[:n].tolist() for row, n in zip(ids["input_ids"].numpy(), ids["length"].numpy())] == \
        clf.encode(EXPORT_RECORDS)
    info = json.loads((folder / EXPORT_INFO).read_text())
    assert info["inputs"] == {name: {"dtype": "string", "shape": [None], "field": name}
                              for name in ("title", "body")}
    assert inputs_said(folder) == "a string tensor per text field: 'title', 'body'"  # what export prints


def test_hostile_field_names_become_plain_signature_keys(titled, tmp_path):
    import keyword

    import tensorflow as tf

    from hfsent.export import EXPORT_INFO, export_saved_model, input_keys

    assert input_keys(["text"]) == ["text"] and input_keys(["body"]) == ["text"]  # one field: as ever
    names = list(dict.fromkeys(n for nasty in NASTY + ["class", "2nd", "a b", "a_b", "a_b_2", "_x", "café"]
                               for n in _parsed(nasty)))
    keys = input_keys(names)
    assert len(set(keys)) == len(keys) == len(names)
    assert all(re.fullmatch("[A-Za-z][A-Za-z0-9_]*", k) and not keyword.iskeyword(k) for k in keys)
    assert input_keys(["a b", "a_b", "class", "2nd", "café"]) == \
        ["a_b", "a_b_1", "class_", "field_2nd", "caf_"]
    chosen = names[:8] + names[-8:]
    folder = export_saved_model(_with_fields(titled.output_dir, tmp_path / "m" / "model", ",".join(chosen)),
                                tmp_path / "1")
    serve = tf.saved_model.load(str(folder)).signatures["serving_default"]
    assert sorted(serve.structured_input_signature[1]) == sorted(input_keys(chosen))  # TensorFlow kept them
    out = serve(**{k: tf.constant(["great"]) for k in input_keys(chosen)})
    assert out["scores"].shape == (1, 2)
    info = json.loads((folder / EXPORT_INFO).read_text())
    assert [v["field"] for v in info["inputs"].values()] == chosen


def _parsed(nasty: str) -> list[str]:
    try:
        return parse(nasty.replace(",", ";"))
    except InputError:
        return []


def test_predict_on_the_command_line_takes_json_objects_and_refuses_a_plain_text(titled, tmp_path):
    hfsent, model = installed_hfsent(), str(titled.output_dir)
    records = [json.dumps(r) for r in EXPORT_RECORDS[:2]]
    done = subprocess.run([hfsent, "predict", "--model", model, *records], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["text"] for line in lines] == EXPORT_RECORDS[:2]
    want = titled.classifier.predict(EXPORT_RECORDS[:2])
    assert [line["label"] for line in lines] == [r["label"] for r in want]
    (tmp_path / "in.txt").write_text(records[0] + "\nGreat film\n")
    for args in (["Great film"], ["--input-file", str(tmp_path / "in.txt")]):
        message = user_error(subprocess.run([hfsent, "predict", "--model", model, *args], capture_output=True,
                                            text=True))
        assert "this model reads 2 text fields ('title', 'body'): give text " in message
        assert 'as a JSON object of them, e.g. {"title": "...", "body": "..."}' in message
    missing = user_error(subprocess.run([hfsent, "predict", "--model", model, '{"title": "x"}'],
                                        capture_output=True, text=True))
    assert missing == "input 0 must have the fields 'title', 'body': missing 'body'"
