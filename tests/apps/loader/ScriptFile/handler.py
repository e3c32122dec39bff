import json

import azure.functions as func

from . import sibling  # the folder is a namespace package of __app__: no __init__.py needed


def main(req: func.HttpRequest) -> func.HttpResponse:
    body = {"caller": __name__, "sibling": sibling.__name__}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
