import json

import azure.functions as func

from ..shared_code import helper  # the style Microsoft's Python guide shows for v1 apps


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(helper.describe(__name__)), mimetype="application/json")
