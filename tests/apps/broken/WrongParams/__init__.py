def main(request):
    return "wrong parameter name"
