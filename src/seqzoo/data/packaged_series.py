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


def pmdarima_array(name: str) -> list[float]:
    """The data of ``pmdarima/datasets/<name>.py``: the longest literal list passed to ``np.array`` in its code,
    read with ``ast`` rather than by importing pmdarima (MIT licence)."""
    source = package_file("pmdarima", f"datasets/{name}.py").read_text()
    lists = [
        node.args[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "array"
        and node.args
        and isinstance(node.args[0], ast.List)
    ]
    values = ast.literal_eval(max(lists, key=lambda n: len(n.elts)))
    return [float("nan") if v is None else float(v) for v in values]  # None: a missing value


def taylor_demand() -> pd.DataFrame:
    """Half-hourly electricity demand of England and Wales, Monday 5 June to Sunday 27 August 2000, in MW
    (4,032 values; Taylor 2003, "Short-term electricity demand forecasting using double seasonal exponential
    smoothing", JORS 54). Shipped inside pmdarima as a literal array in ``datasets/taylor.py``."""
    values = pmdarima_array("taylor")
    times = pd.date_range("2000-06-05", periods=len(values), freq="30min")
    return pd.DataFrame({"time": times, "demand": values})


def regular(values: list[float], start: str, freq: str) -> pd.DataFrame:
    """A series with one value per period from ``start``: columns ``time`` and ``value``."""
    return pd.DataFrame({"time": pd.date_range(start, periods=len(values), freq=freq), "value": values})


def ausbeer_quarterly() -> pd.DataFrame:
    """Quarterly Australian beer production, 1956 Q1 to 2008 Q3, in megalitres (211 quarters; Hyndman's fpp
    data). Shipped inside pmdarima as ``datasets/ausbeer.py``."""
    values = pmdarima_array("ausbeer")
    return regular(values[:-1] if values[-1] != values[-1] else values, "1956-01-01", "QS")  # a NaN closes it


def woolyrnq_quarterly() -> pd.DataFrame:
    """Quarterly Australian woollen yarn production, 1965 Q1 to 1994 Q3, in tonnes (119 quarters). Shipped
    inside pmdarima as ``datasets/woolyrnq.py``."""
    return regular(pmdarima_array("woolyrnq"), "1965-01-01", "QS")


def wineind_monthly() -> pd.DataFrame:
    """Monthly Australian wine sales by winemakers in bottles of at most 1 litre, January 1980 to August 1994
    (176 months). Shipped inside pmdarima as ``datasets/wineind.py``."""
    return regular(pmdarima_array("wineind"), "1980-01-01", "MS")


def lynx_yearly() -> pd.DataFrame:
    """Canadian lynx trapped per year in the Mackenzie River district, 1821 to 1934 (114 years; a ten-year
    cycle). Shipped inside sktime as ``datasets/data/Lynx/Lynx.csv``."""
    frame = pd.read_csv(package_file("sktime", "datasets/data/Lynx/Lynx.csv"))
    return regular(frame.iloc[:, 1].astype(float).tolist(), "1821-01-01", "YS")


def uschange_consumption() -> pd.DataFrame:
    """Quarterly percentage change of US personal consumption, 1970 Q1 to 2016 Q3 (187 quarters; fpp2's
    uschange). Shipped inside sktime as ``datasets/data/Uschange/Uschange.csv``."""
    frame = pd.read_csv(package_file("sktime", "datasets/data/Uschange/Uschange.csv"))
    return regular(frame["Consumption"].astype(float).tolist(), "1970-01-01", "QS")


def sunspots_yearly() -> pd.DataFrame:
    """Yearly mean sunspot numbers, 1700 to 2008 (309 years; an 11-year cycle of varying length). Shipped
    inside statsmodels as ``datasets/sunspots/sunspots.csv``."""
    frame = pd.read_csv(package_file("statsmodels", "datasets/sunspots/sunspots.csv"))
    return regular(frame["SUNACTIVITY"].astype(float).tolist(), "1700-01-01", "YS")


def nile_yearly() -> pd.DataFrame:
    """Yearly flow of the Nile at Aswan, 1871 to 1970, in 10^8 m^3 (100 years; a level shift in 1898). Shipped
    inside statsmodels as ``datasets/nile/nile.csv``."""
    frame = pd.read_csv(package_file("statsmodels", "datasets/nile/nile.csv"))
    return regular(frame["volume"].astype(float).tolist(), "1871-01-01", "YS")


def elec_equip_monthly() -> pd.DataFrame:
    """Monthly euro-area index of new orders of electrical equipment, January 1995 onwards (2005 = 100; fpp's
    elecequip). Shipped inside statsmodels as ``datasets/elec_equip/elec_equip.csv``."""
    frame = pd.read_csv(package_file("statsmodels", "datasets/elec_equip/elec_equip.csv"))
    return regular(frame.iloc[:, 1].astype(float).tolist(), "1995-01-01", "MS")


def elnino_monthly() -> pd.DataFrame:
    """Monthly sea surface temperature of the Nino 1+2 region, January 1950 to December 2010, in degrees C
    (732 months). Shipped inside statsmodels as ``datasets/elnino/elnino.csv``, one row per year."""
    frame = pd.read_csv(package_file("statsmodels", "datasets/elnino/elnino.csv"))
    return regular(frame.drop(columns="YEAR").to_numpy(float).ravel().tolist(), "1950-01-01", "MS")


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
