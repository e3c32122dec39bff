import json

import __app__.dateutil as customer
import azure.functions as func
import dateutil as third_party


def main(req: func.HttpRequest) -> func.HttpResponse:
    body = {"plain": third_party.__version__, "app": customer.__version__}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
