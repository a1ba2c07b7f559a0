"""A tiny package that pip installs into the apps test image."""


def hello(name: str = "world") -> str:
    return f"hello, {name}"
