"""The seam fixture's class (never run): every class parameter type, with and without a default,
and enter methods on both sides of a GPU memory snapshot."""


class Scorer:
    def __init__(self, model_name: str, top: int = 3, strict: bool = False, salt: bytes = b"pepper") -> None:
        self.model_name, self.top, self.strict, self.salt = model_name, top, strict, salt

    def load(self) -> None:
        """Before the snapshot: its work is kept."""

    def warm(self) -> None:
        """After each restore."""

    def score(self, text: str) -> float:
        return float(len(text))
