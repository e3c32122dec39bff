"""The HTTP front: aiohttp server, HTTP-triggered functions and the durable HTTP API.

The server (``http``: HTTP-triggered functions matched with ``functions.routes``), the public
webhook API and the SDK's RPC base (``management``), the status JSON the extension returns,
response shapes and query-string parsing.

May import: ``devhost.contracts`` (``TaskHubProtocol`` is all it knows of the hub) and
``devhost.functions`` (to invoke HTTP-triggered functions). Never ``devhost.hub``'s modules
and never ``devhost.core``.
"""
