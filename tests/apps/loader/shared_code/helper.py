LOADS = []
LOADS.append(__name__)


def describe(caller: str) -> dict:
    return {"caller": caller, "helper": __name__, "helper_loads": len(LOADS)}
