import azure.functions as func


def main(req: func.HttpRequest) -> str:
    return f"item {int(req.route_params['id'])}"
