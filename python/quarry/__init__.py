"""Quarry text classifiers in Python.

    import quarry
    m = quarry.Model("r8.qmodel")
    m.predict(["crude prices rose"], k=3)   # [Prediction(labels=[...], probabilities=[...])]

Prediction runs in this process (libQuarryC through ctypes); `finetune` and `evaluate` run
the quarry CLI; `quarry.spark.predict` adds prediction columns to a Spark DataFrame.
"""

from .cli import evaluate, finetune
from .errors import CLIError, QuarryError
from .model import Model, Prediction, probability_text

__all__ = [
    "Model", "Prediction", "QuarryError", "CLIError", "finetune", "evaluate", "probability_text",
]
__version__ = "0.1.0"
