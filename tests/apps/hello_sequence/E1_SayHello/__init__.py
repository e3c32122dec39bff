import os


def main(name: str) -> str:
    return f"{os.environ['GREETING']} {name}!"
