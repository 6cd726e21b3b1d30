"""Text frames built once for many sockets are the frames RFC 6455 describes."""

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from imserver.overrides import prepared_frames
from imserver.overrides.prepared_frames import text_frame


def parse(frame: bytes) -> Frame:
    """Read ``frame`` with another implementation's parser (the websockets library's)."""
    reader = StreamReader()
    reader.feed_data(frame)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        assert reader.at_eof(), "bytes left after the frame"
        return done.value
    raise AssertionError("the frame is incomplete")


def test_the_examples_of_rfc_6455():
    assert text_frame("Hello") == bytes.fromhex("810548656c6c6f")  # section 5.7
    assert text_frame("x" * 256)[:4] == bytes.fromhex("817e0100")  # 16-bit length
    assert text_frame("x" * 65536)[:10] == bytes.fromhex("817f0000000000010000")  # 64-bit


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_every_length_form_parses_back_to_the_text(length):
    text = "y" * length
    frame = parse(text_frame(text))
    assert (frame.opcode, frame.fin, frame.data.decode()) == (Opcode.TEXT, True, text)


def test_multibyte_text_is_framed_by_its_utf8_length():
    text = '{"content": "你好 世界 👋"}' * 10  # 3 or 4 bytes for some characters
    frame = parse(text_frame(text))
    assert frame.data.decode("utf-8") == text
    assert len(text_frame(text)) == 4 + len(text.encode("utf-8"))  # 126..65535: 2+2 header


def test_the_same_text_object_reuses_its_frame_and_another_text_gets_its_own():
    first = "".join(["push ", "one"])  # built at run time: not an interned constant
    again = prepared_frames._frame_of(first)
    assert prepared_frames._frame_of(first) is again
    equal_but_new = "".join(["push ", "one"])
    assert prepared_frames._frame_of(equal_but_new) == again
    other = prepared_frames._frame_of("push two")
    assert parse(other).data == b"push two"
