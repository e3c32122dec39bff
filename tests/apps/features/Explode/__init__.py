async def main(message: str) -> str:
    raise ValueError(message)
