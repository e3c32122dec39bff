"""Reading a Durable API request body with a size limit.

The extension's own messages stop at ``maxGrpcMessageSizeInBytes`` (4,194,304 bytes by
default, ``DurableTaskOptions``); the local host holds every input in memory and in its
store, so an input of any size would grow the host for good (a 50 MB input took it from 153
to 767 MB). A body over the limit gets a 413 with a message, read no further than the limit.
"""

from __future__ import annotations

from aiohttp import web

from devhost.front.responses import error_response

# The extension's default maxGrpcMessageSizeInBytes.
MAX_DURABLE_BODY = 4 * 1024 * 1024
_CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    """The request body exceeds the limit; ``response`` is the 413 to answer."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.response = error_response(
            413,
            f"The request body is larger than {limit:,} bytes, the largest input, event or "
            "reason this host accepts (the Durable extension's maxGrpcMessageSizeInBytes). "
            "Pass large data by reference, e.g. the name of a blob.",
        )


async def read_text(request: web.Request, limit: int = MAX_DURABLE_BODY) -> str:
    """The body as text (UTF-8, as aiohttp decodes it), at most ``limit`` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks).decode(request.charset or "utf-8", errors="replace")
