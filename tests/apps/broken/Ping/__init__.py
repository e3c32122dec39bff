def main(req):
    return "pong"
