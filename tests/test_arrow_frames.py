"""The frames between the training process and its tokenizing children (hfsent.arrow_frames):
the exact bytes of a frame, a column's round trip through a pipe, and a stream that ends."""

import io
import os

import pyarrow as pa
import pytest

from hfsent.arrow_frames import column_of, read_frame, to_ipc, write_frame


def test_a_frame_is_its_length_in_8_bytes_little_endian_then_its_parts():
    out = io.BytesIO()
    write_frame(out, b"T", memoryview(b"xok")[1:], pa.py_buffer(b"!"))
    write_frame(out)
    assert out.getvalue() == b"\x04" + bytes(7) + b"Tok!" + bytes(8)
    back = io.BytesIO(out.getvalue())
    assert read_frame(back) == b"Tok!" and read_frame(back) == b"" and read_frame(back) is None


def test_the_parts_are_written_as_they_are_and_flushed_once():
    class Recording(io.BytesIO):
        def __init__(self):
            super().__init__()
            self.writes, self.flushes = [], 0

        def write(self, data):
            self.writes.append(data)
            return super().write(data)

        def flush(self):
            self.flushes += 1

    kind, payload = b"T", to_ipc("text", pa.array(["a"]))
    out = Recording()
    write_frame(out, kind, payload)
    assert out.writes[1] is kind and out.writes[2] is payload and len(out.writes) == 3
    assert out.flushes == 1


def test_a_column_goes_through_a_pipe_and_comes_back_read_in_place():
    texts = pa.array(["It's great", "", None, "Ünïcode — «ok»"])
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as writer:
        payload = to_ipc("text", texts)
        assert isinstance(payload, pa.Buffer)
        write_frame(writer, b"T", payload)
        write_frame(writer, b"E", b'["InputError", "bad"]')
    with os.fdopen(read_end, "rb") as reader:
        first, second, end = read_frame(reader), read_frame(reader), read_frame(reader)
    assert first[:1] == b"T" and column_of(memoryview(first)[1:], "text").equals(texts)
    assert second == b'E["InputError", "bad"]' and end is None


@pytest.mark.parametrize("cut", [0, 3, 8, 12])
def test_a_stream_that_ends_at_or_inside_a_frame_reads_as_its_end(cut):
    out = io.BytesIO()
    write_frame(out, b"0123456789")
    assert read_frame(io.BytesIO(out.getvalue()[:cut])) is None
