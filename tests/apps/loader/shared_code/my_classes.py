"""The custom class of Microsoft's serialize_arguments sample (to_json / from_json)."""


class SerializableClass:
    def __init__(self, number: int) -> None:
        self._number = number

    @property
    def number(self) -> int:
        return self._number

    @staticmethod
    def to_json(obj: "SerializableClass") -> str:
        return str(obj.number)

    @staticmethod
    def from_json(json_str: str) -> "SerializableClass":
        return SerializableClass(int(json_str))
