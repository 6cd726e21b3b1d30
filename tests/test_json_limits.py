"""The JSON rules of CONTRACT 12 (depth, UTF-8, lone surrogates) as ``loads_checked`` holds them."""

import pytest

from imserver.api.json_limits import (
    BAD_UNICODE,
    MALFORMED,
    MAX_JSON_DEPTH,
    TOO_DEEP,
    JsonRefused,
    loads_checked,
)


def nested(depth: int) -> str:
    """An object whose outermost level is 1 and whose deepest array is level ``depth``."""
    return '{"a": ' * (depth - 1) + "[]" + "}" * (depth - 1)


def test_32_levels_pass_and_33_do_not():
    assert loads_checked(nested(MAX_JSON_DEPTH))
    with pytest.raises(JsonRefused) as refused:
        loads_checked(nested(MAX_JSON_DEPTH + 1))
    assert refused.value.reason == TOO_DEEP


def test_scalars_do_not_add_a_level():
    assert loads_checked(nested(MAX_JSON_DEPTH).replace("[]", '"deep"', 1))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("[" * 100_000, TOO_DEEP),
        ('{"a": "\\ud800"}', BAD_UNICODE),
        ('{"\\udfff": 1}', BAD_UNICODE),
        ('["ok", ["\\ud83d"]]', BAD_UNICODE),
        (b'{"a": "\xff"}', BAD_UNICODE),
        ("{", MALFORMED),
        ("", MALFORMED),
    ],
)
def test_refusals(raw, reason):
    with pytest.raises(JsonRefused) as refused:
        loads_checked(raw)
    assert refused.value.reason == reason


def test_a_surrogate_pair_is_one_character_and_passes():
    assert loads_checked('{"a": "\\ud83d\\ude00"}') == {"a": "😀"}
