def main(value):
    raise ValueError("boom")
