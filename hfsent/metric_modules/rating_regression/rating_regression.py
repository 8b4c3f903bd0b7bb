"""Regression metrics for star ratings as one ``evaluate`` module.

Load it offline with ``evaluate.load(path_to_this_folder)``.  Returns mean squared error,
mean absolute error and the coefficient of determination R^2 (``nan`` when the references
are constant).  With ``round_predictions=True`` predictions are rounded to integers first,
as the original IMDB rating tutorial did.
"""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = "MSE, MAE and R^2 for rating regression."
_KWARGS = """
Args:
    predictions (list of float): predicted ratings.
    references (list of float): true ratings.
    round_predictions (bool): round predictions to integers first. Default False.
Returns:
    dict with mse, mae, r2 (floats).
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class RatingRegression(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("float64"), "references": datasets.Value("float64")}
            ),
        )

    def _compute(self, predictions, references, round_predictions: bool = False):
        pred = np.asarray(predictions, dtype=np.float64)
        true = np.asarray(references, dtype=np.float64)
        if round_predictions:
            pred = np.rint(pred)
        residual = true - pred
        total = ((true - true.mean()) ** 2).sum()
        return {
            "mse": float((residual**2).mean()),
            "mae": float(np.abs(residual).mean()),
            "r2": float(1.0 - (residual**2).sum() / total) if total > 0 else float("nan"),
        }
