from shared.attempts import next_attempt


def main(args: dict) -> int:
    attempt = next_attempt(args["key"])
    if attempt <= args["fail"]:
        raise RuntimeError(f"attempt {attempt} fails")
    return attempt
