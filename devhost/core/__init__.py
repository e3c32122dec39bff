"""The replay core: pure decisions about one orchestration instance.

Given the stored history, the new events and the actions the SDK returned, it decides the new
history events, the work to dispatch and the instance's new status (the protocol's replay
algorithm), and which pending messages the next episode takes.

May import: the standard library's pure modules and ``devhost.contracts``. Never the hub, the
front or the function loader, and no I/O (no sqlite3, asyncio, aiohttp, sockets, files):
everything here is a function of its arguments, so it is unit-tested with history builders and
golden histories.
"""
