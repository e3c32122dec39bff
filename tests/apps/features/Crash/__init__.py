import azure.functions as func


async def main(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("the handler broke")
