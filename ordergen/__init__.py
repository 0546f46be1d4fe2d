"""ordergen: exact whole-share rebalancing of model portfolios, run as a batch job."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ordergen")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
