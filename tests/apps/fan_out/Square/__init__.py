async def main(value: int) -> int:
    return value * value
