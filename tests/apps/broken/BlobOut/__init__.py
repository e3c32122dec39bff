def main(value, out):
    out.set(value)
