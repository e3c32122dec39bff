import json

import azure.functions as func

from ..shared_code.sub import deep


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(deep.describe(__name__)), mimetype="application/json")
