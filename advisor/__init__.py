"""advisor: a portfolio's size mix and small-cap risks, and whole-share trades to tilt it."""

__version__ = "0.1.0"
