import json

import azure.functions as func
from shared_code import helper  # works because the app root is on sys.path


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(helper.describe(__name__)), mimetype="application/json")
