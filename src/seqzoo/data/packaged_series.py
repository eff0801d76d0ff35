"""Real series that installable packages ship, read from their files without importing the packages (no
download; ``pip install -e ".[forecast]"`` brings statsmodels and pmdarima). Each returns a long frame for
``SeriesDataModule(frame=...)``; ``configs/data/<name>.yaml`` names the function, the columns and the window.
"""

import ast
import importlib.util
import tarfile
from pathlib import Path

import pandas as pd

from seqzoo.errors import SeqzooError


def package_file(package: str, relative: str, extra: str = "forecast") -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SeqzooError(
            f"this data set is read from the {package} package's files, and {package} is not installed: "
            f'pip install -e ".[{extra}]" (or pip install {package})'
        )
    path = Path(spec.origin).parent / relative
    if not path.is_file():
        raise SeqzooError(f"{package} is installed but has no {relative}; this version does not ship the data set")
    return path


def taylor_demand() -> pd.DataFrame:
    """Half-hourly electricity demand of England and Wales, Monday 5 June to Sunday 27 August 2000, in MW
    (4,032 values; Taylor 2003, "Short-term electricity demand forecasting using double seasonal exponential
    smoothing", JORS 54). Shipped inside pmdarima (MIT licence) as a literal array in ``datasets/taylor.py``,
    read here with ``ast`` rather than by importing pmdarima."""
    source = package_file("pmdarima", "datasets/taylor.py").read_text()
    values = next(
        ast.literal_eval(node.args[0])
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "array"
        and node.args
        and isinstance(node.args[0], ast.List)
        and len(node.args[0].elts) > 1000
    )
    times = pd.date_range("2000-06-05", periods=len(values), freq="30min")
    return pd.DataFrame({"time": times, "demand": [float(v) for v in values]})


def msft_prices() -> pd.DataFrame:
    """Daily Microsoft share prices (open, high, low, close, volume), 13 March 1986 to 10 November 2017, on
    trading days (7,983 rows). Shipped inside pmdarima (MIT licence) as ``datasets/data/msft.tar.gz``."""
    with tarfile.open(package_file("pmdarima", "datasets/data/msft.tar.gz")) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(".csv"))
        return pd.read_csv(tar.extractfile(member), parse_dates=["Date"])


def co2_weekly() -> pd.DataFrame:
    """Weekly atmospheric CO2 at Mauna Loa, March 1958 to December 2001, in ppm (2,284 weeks, 59 of them
    missing). Shipped inside statsmodels (BSD-3 licence; the data are public, Scripps Institution of
    Oceanography) as ``datasets/co2/co2.csv``."""
    frame = pd.read_csv(package_file("statsmodels", "datasets/co2/co2.csv"))
    frame["date"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d")
    return frame


def airline_passengers() -> pd.DataFrame:
    """Monthly international airline passengers, January 1949 to December 1960, in thousands (144 months; Box &
    Jenkins 1976). Shipped inside sktime (BSD-3 licence; already a seqzoo dependency) as
    ``datasets/data/Airline/Airline.csv``."""
    frame = pd.read_csv(package_file("sktime", "datasets/data/Airline/Airline.csv"))
    frame["Date"] = pd.to_datetime(frame["Date"], format="%Y-%m")
    return frame
