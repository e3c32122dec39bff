from .. import helper  # a relative import that climbs out of the sub-package


def describe(caller: str) -> dict:
    return {**helper.describe(caller), "deep": __name__}
