"""The backup console's JSON API: runs, one run's detail and timeline, terminate, config."""

import azure.functions as func

from sitebackup.console import api


async def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    return await api.handle(req, starter)
