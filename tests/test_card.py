"""The model card: Hub metadata that parses back, the scores of metrics.json, one row per stage."""

import json

import pytest
from huggingface_hub import ModelCard

from hfsent.card import WIDGET_EXAMPLES, build_card, markdown_text
from hfsent.hub import push_to_hub


def test_card_metadata_parses_back_from_the_hub(trained):
    push_to_hub(trained.output_dir, "tester/card")
    card = ModelCard.load("tester/card")
    data = card.data.to_dict()
    assert data["library_name"] == "keras" and data["pipeline_tag"] == "text-classification"
    assert data["license"] and "hfsent" in data["tags"]
    assert set(data["metrics"]) >= {"accuracy", "f1", "roc_auc"}
    assert card.data.eval_results[0].dataset_split == "test"
    assert 'from_pretrained("tester/card")' in card.text
    assert 'keras.saving.load_model("hf://tester/card")' in card.text


def test_the_cards_scores_are_those_of_metrics_json(trained):
    push_to_hub(trained.output_dir, "tester/card-scores")
    card = ModelCard.load("tester/card-scores")
    metrics = json.loads((trained.output_dir / "metrics.json").read_text())
    assert {r.metric_type: r.metric_value for r in card.data.eval_results} == \
        {k: round(metrics["test"][k], 4) for k in ("accuracy", "f1", "precision", "recall", "roc_auc")}
    assert f"| test | {metrics['test']['accuracy']:.4f} |" in card.text


def test_every_stage_record_is_a_row_of_the_card(trained):
    text = (trained.output_dir / "README.md").read_text()
    for record in trained.metrics["stages"][:-1]:  # save's record comes after the card is written
        assert f"| {record['name']} | {record['seconds']} | {markdown_text(record['summary'])} |" in text
    assert "skipped: off (--no-wide-ngrams)" in text and "Wide branch" not in text
    assert "![Training curves](training_curves.png)" in text


def test_the_card_names_no_local_path(trained, tmp_path):
    cfg = trained.classifier.config.replace(dataset=str(tmp_path / "reviews.csv"))
    card = str(build_card(cfg, trained.metrics, "me/model"))
    assert str(tmp_path) not in card and "- Data: reviews.csv," in card
    hub_card = str(build_card(cfg.replace(dataset_id="stanfordnlp/imdb"), trained.metrics, "me/model"))
    assert "datasets:\n- stanfordnlp/imdb" in hub_card


def test_the_widget_shows_the_models_own_predictions_and_passes_the_yaml_check(trained):
    push_to_hub(trained.output_dir, "tester/card-widget")
    card = ModelCard.load("tester/card-widget")
    widget = card.data.to_dict()["widget"]
    assert [w["text"] for w in widget] == list(WIDGET_EXAMPLES)
    for example, ranked in zip(widget, trained.classifier.ranked(list(WIDGET_EXAMPLES))):
        assert example["output"] == [{"label": r["label"], "score": round(r["score"], 4)} for r in ranked]
    card.validate()  # the Hub's YAML check (on the local Hub), widget and output included
    card.data.widget = [{"text": "x", "output": [{"label": "positive", "probability": 0.9}]}]
    with pytest.raises(ValueError, match=r"widget\[0\]: output must be a list of"):
        card.validate()


def test_hostile_label_and_dataset_names_stay_text_in_the_yaml_and_the_markdown(trained):
    import re
    import unicodedata

    import yaml

    from hfsent.config import UNPRINTABLE
    from tests.nasty import NASTY

    def card(strings: list[str], dataset: str) -> tuple[dict, list[str]]:
        # Distinct, none empty once stripped; a label name may not hold a newline or another
        # unprintable character (hfsent.config.check_label_names), so those become spaces there.
        names = [f"{i} " + "".join(" " if unicodedata.category(c) in UNPRINTABLE else c for c in s)
                 for i, s in enumerate(strings)]
        metrics = {**trained.metrics, "test": {**trained.metrics["test"], "per_class": {
            n: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 3} for n in names}},
            "widget": [{"text": s, "output": [{"label": n, "score": 0.5}]} for s, n in zip(strings, names)],
            "stages": [{"name": "data", "seconds": 1.0, "summary": "; ".join(strings),
                        "figures": {"classes": {n: 7 for n in names}}}]}
        cfg = trained.classifier.config.replace(label_names=names, dataset_id=dataset)
        text = str(build_card(cfg, metrics, "me/model"))
        head, front, body = re.split(r"^---\n", text, maxsplit=2, flags=re.MULTILINE)
        data = yaml.safe_load(front)
        assert head == "" and ModelCard(text).data.to_dict() == data
        assert [w["text"] for w in data["widget"]] == strings, "the YAML holds exactly the strings meant"
        assert [w["output"][0]["label"] for w in data["widget"]] == names
        return data, body.splitlines()

    _, plain = card([f"word{i}" for i in range(len(NASTY))], "plain")
    # The Markdown's structure, line by line: the same lines, headings, list items, table cells
    # and code spans as a card of plain names.  Escaped (\|, \`) or entity (&lt;) text is text.
    def shape(line: str) -> tuple:
        return (line[:2] if line[:1] in "#-|!>" else "", len(re.findall(r"(?<!\\)\|", line)),
                len(re.findall(r"(?<!\\)`", line)), bool(re.search(r"(?<!\\)[{}]", line)))

    for dataset in NASTY:
        _, lines = card(NASTY, dataset)
        assert [shape(line) for line in lines] == [shape(line) for line in plain], dataset
        assert not re.search(r"<(script|img)|\u2028|\u2029|^---$", "\n".join(lines), re.MULTILINE)


def test_metrics_of_an_odd_shape_give_a_card_or_one_error(trained, tmp_path):
    """A score that only one split has is left out of the table; a number that no float holds
    is refused as the file's shape, not met as an OverflowError while the card is drawn."""
    import json

    import pytest

    from hfsent.artifacts import read_metrics
    from hfsent.errors import InputError

    metrics = {**trained.metrics, "validation": {"accuracy": 0.5, "f1": 0.5}, "test": {"accuracy": 0.5}}
    text = str(build_card(trained.classifier.config, metrics, "me/model"))
    assert "| split | accuracy |" in text and "| test | 0.5000 |" in text
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "metrics.json").write_text('{"test": {"accuracy": 1' + "0" * 400 + "}}")
    with pytest.raises(InputError, match="test must be an object of numbers"):
        read_metrics(folder)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    assert read_metrics(folder)["test"] == {"accuracy": 0.5}
