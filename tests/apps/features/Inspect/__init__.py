"""Echoes what the worker handed over, through a named http output binding."""

import json
import os

import azure.functions as func


def main(req: func.HttpRequest, res: func.Out[func.HttpResponse], context: func.Context) -> None:
    body = req.get_body()
    res.set(
        func.HttpResponse(
            json.dumps(
                {
                    "method": req.method,
                    "url": req.url,
                    "route": dict(req.route_params),
                    "params": dict(req.params),
                    "header": req.headers.get("x-test"),
                    "body": body.decode() if body else None,
                    "function": context.function_name,
                    "directory": os.path.basename(context.function_directory),
                    "invocation": bool(context.invocation_id),
                    "setting": os.environ.get("FEATURES_SETTING"),
                    "cwd": os.path.basename(os.getcwd()),
                }
            ),
            status_code=201,
            headers={"X-Answer": "yes"},
            mimetype="application/json",
        )
    )
