def main(req):
    return "disabled functions do not answer"
