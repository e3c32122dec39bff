from ..shared_code.my_classes import SerializableClass


def main(value: SerializableClass) -> SerializableClass:
    return SerializableClass(value.number * 2)
