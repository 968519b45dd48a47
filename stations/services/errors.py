"""The registry's refusal of an input, every problem listed."""

from __future__ import annotations


class RegistryError(ValueError):
    """A registry input that cannot be imported; `errors` lists each problem with its line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
