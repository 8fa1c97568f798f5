"""The C decoder of _jsonfile.c (built only by a compiling install: LOGPIPE_COMPILE=1)."""

from collections.abc import Callable

def decode_buffer(
    chunk: bytes,
    end: int,
    since: int,
    fallback: Callable[[bytes, int], tuple[int, int, bytes, bool] | None],
    /,
) -> list[tuple[int, int, bytes, bool]]: ...
def decode_line(line: bytes, /) -> tuple[int, int, bytes, bool] | None: ...
