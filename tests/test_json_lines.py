"""`runs.json_objects`: the one reader of search logs (the run page, a kernel search resumed, the proof memory)."""

from __future__ import annotations

from runs import json_objects


def test_only_whole_json_objects_are_read_and_lone_surrogates_are_replaced() -> None:
    text = "\n".join(
        [
            '{"kind": "probe", "ok": true}',
            "",
            "[1, 2]",  # a value, not an entry: `entry.get` would have failed on it
            '"text"',
            '{"kind": "check", "so',  # cut short by a process that died writing it
            '{"deep": ' + "[" * 100_000 + "}",  # nested past the decoder
            '{"note": "a\\ud800b"}',
        ]
    )
    assert json_objects(text) == [{"kind": "probe", "ok": True}, {"note": "a\ufffdb"}]
    assert json_objects("") == []
