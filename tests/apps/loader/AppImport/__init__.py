import json

import azure.functions as func
from __app__.shared_code import helper


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(helper.describe(__name__)), mimetype="application/json")
