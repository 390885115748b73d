"""Sinks are their own checkpoint: the crash window between storing an outcome and marking
it done is closed (JSONL: adopt a whole line past the checkpoint, cut a partial one)."""

import json
import sqlite3
from pathlib import Path

import pytest

from caudal import ConfigurationError
from caudal.bulk import (
    BulkInput,
    JsonlSink,
    Outcome,
    SqliteSink,
    count_inputs,
    open_sink,
    read_jsonl,
)


def _ok(ident: str) -> Outcome:
    line = json.dumps({"id": ident, "status": "ok", "records": [], "error": None})
    return Outcome.from_line(line)


def test_jsonl_adopts_a_whole_line_the_checkpoint_missed(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with JsonlSink(out) as sink:
        sink.write(_ok("a"))
        sink.write(_ok("b"))
    # killed after appending c's line, before marking it: then mid-way through d's line
    with out.open("a") as file:
        file.write(_ok("c").line + "\n" + _ok("d").line[:10])
    with JsonlSink(out, resume=True) as sink:
        assert [sink.completed(i) for i in "abcd"] == [True, True, True, False]
        sink.write(_ok("d"))
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == list("abcd")


def test_jsonl_cuts_a_line_that_repeats_a_checkpointed_id(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with JsonlSink(out) as sink:
        sink.write(_ok("a"))
    with out.open("a") as file:
        file.write(_ok("a").line + "\n")
    with JsonlSink(out, resume=True):
        pass
    assert len(out.read_text().splitlines()) == 1


def test_jsonl_refuses_a_file_shorter_than_its_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with JsonlSink(out) as sink:
        sink.write(_ok("a"))
    out.write_text("")
    with pytest.raises(ConfigurationError, match="shorter than its checkpoint"):
        JsonlSink(out, resume=True)


@pytest.mark.parametrize("name", ["out.jsonl", "out.sqlite"])
def test_an_existing_output_needs_resume_and_no_id_is_written_twice(
    tmp_path: Path, name: str
) -> None:
    sink = open_sink(tmp_path / name)
    sink.write(_ok("a"))
    with pytest.raises(ConfigurationError, match="written twice"):
        sink.write(_ok("a"))
    sink.close()
    with pytest.raises(ConfigurationError, match="--resume"):
        open_sink(tmp_path / name)
    again = open_sink(tmp_path / name, resume=True)
    assert again.completed("a") and not again.completed("b")
    again.close()


def test_sqlite_row_is_the_checkpoint(tmp_path: Path) -> None:
    with SqliteSink(tmp_path / "out.sqlite") as sink:
        sink.write(_ok("a"))
    rows = sqlite3.connect(tmp_path / "out.sqlite").execute("SELECT id, status FROM outcomes")
    assert rows.fetchall() == [("a", "ok")]


def test_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"\.jsonl"):
        open_sink(tmp_path / "out.csv")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": 17, "params": {}}', "id must be a JSON string"),
        ('{"id": "", "params": {}}', "non-empty"),
        ('{"id": "a", "params": []}', "params must be a JSON object"),
        ('{"id": "a", "parms": {}}', "unknown keys"),
        ('{"id": "a", "params": {"credential": {"Password": "hunter2"}}', "not valid JSON"),
        ("[1]", "not a JSON object"),
    ],
)
def test_a_bad_input_line_is_named_by_number_never_by_content(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "ok", "params": {}}\n\n' + line + "\n")
    with pytest.raises(ConfigurationError, match=message) as caught:
        count_inputs(path)
    assert "line 3" in str(caught.value) and "hunter2" not in str(caught.value)


def test_inputs_are_read_exactly_and_keep_their_ids(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "007", "params": {"amount": 1.10}}\n')
    (item,) = read_jsonl(path)
    assert item.id == "007" and str(item.params["amount"]) == "1.10"
    assert "amount" not in repr(item)
    assert BulkInput("x").params == {}


def test_a_bug_in_a_task_is_recorded_by_type_never_by_message() -> None:
    outcome = Outcome.crashed("x", KeyError("hunter2"))
    line = json.loads(outcome.line)
    assert (outcome.status, outcome.error_type) == ("error", "KeyError")
    assert line["error"]["type"] == "KeyError" and "hunter2" not in outcome.line
