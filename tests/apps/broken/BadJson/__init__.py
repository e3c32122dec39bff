def main(req):
    return "never loaded"
