"""sobriete: frugal, explainable energy management for the public buildings of communes."""

__version__ = "0.1.0"
