"""Per-portfolio wall-clock latencies and their percentiles."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Latencies:
    """Seconds per portfolio; percentiles in milliseconds (nan when there are none)."""

    seconds: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.seconds)

    def percentile_ms(self, q: float) -> float:
        return 1000 * float(np.percentile(self.seconds, q)) if self.seconds else float("nan")

    @property
    def max_ms(self) -> float:
        return 1000 * max(self.seconds) if self.seconds else float("nan")

    @property
    def per_second(self) -> float:
        return len(self.seconds) / sum(self.seconds) if self.seconds else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "count": self.count,
            "p50_ms": self.percentile_ms(50),
            "p90_ms": self.percentile_ms(90),
            "p99_ms": self.percentile_ms(99),
            "max_ms": self.max_ms,
            "per_second": self.per_second,
        }
