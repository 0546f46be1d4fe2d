"""The original method as a program: files in, orders file out, timed as ordergen is.

    python -m benchmarks.original_service MODEL POSITIONS PRICES OUTPUT

It reads the three files `ordergen rebalance` reads (JSON, parsed with the standard
library's Decimal numbers), values each portfolio, solves each one's continuous
relaxation rebuilt in CVXPY and rounds it (`benchmarks.baselines.original_method`),
and writes every portfolio's status and orders as JSON. It is the baseline of the
end-to-end ratio: the same inputs, the same kind of output, one process.
"""

import json
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from benchmarks.baselines import original_method

THOUSANDTH = Decimal("0.001")


def main(model_path: Path, positions_path: Path, prices_path: Path, output: Path) -> int:
    model = json.loads(model_path.read_text(), parse_float=Decimal)
    summaries = json.loads(positions_path.read_text(), parse_float=Decimal)
    prices = {sid: Decimal(text) for sid, text in json.loads(prices_path.read_text()).items()}
    ids = [position["securityId"] for position in model["positions"]]
    columns = {
        name: np.array([float(position[name]) for position in model["positions"]])
        for name in ("target", "lowDrift", "highDrift")
    }
    price_column = np.array([float(prices[sid]) for sid in ids])
    inside = set(ids)
    answers = []
    for summary in summaries:
        held = {s["securityId"]: int(s["netQuantity"]) for s in summary["securities"]}
        value = Decimal(summary["cashBalance"]) + sum(
            (units * prices[sid] for sid, units in held.items()), Decimal(0)
        )
        value = value.quantize(THOUSANDTH, ROUND_HALF_UP)
        if value <= 0:
            answers.append({"portfolioId": summary["portfolioId"], "status": "empty"})
            continue
        answer = original_method(
            columns["target"], columns["lowDrift"], columns["highDrift"], price_column, float(value)
        )
        orders = []
        if answer.units is not None:
            wanted = dict(zip(ids, answer.units, strict=True))
            wanted.update({sid: 0 for sid in held if sid not in inside})
            for sid, units in wanted.items():
                delta = units - held.get(sid, 0)
                if delta:
                    side = "BUY" if delta > 0 else "SELL"
                    orders.append({"securityId": sid, "side": side, "quantity": abs(delta)})
        answers.append(
            {"portfolioId": summary["portfolioId"], "status": answer.status, "orders": orders}
        )
    output.write_text(json.dumps({"portfolios": answers}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*(Path(argument) for argument in sys.argv[1:5])))
