"""Reference data shipped with labgate, each table carrying its citation in its own header."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

GHIA_1982 = "Ghia, Ghia & Shin (1982), J. Comput. Phys. 48(3):387-411, doi:10.1016/0021-9991(82)90058-4"


@dataclass(frozen=True)
class ReferenceProfile:
    """A tabulated profile: coordinate along the line and the value there, both non-dimensional.

    `used` marks the points a comparison should score: the walls (where the value is a boundary
    condition, not a result) and entries listed in ghia1982_excluded_points.csv are not scored.
    """

    coordinate: FloatArray
    value: FloatArray
    used: NDArray[np.bool_]
    source: str
    description: str
    exclusions: tuple[str, ...] = ()


def _read_table(name: str) -> tuple[list[str], FloatArray, str]:
    text = resources.files("tools.cfd").joinpath("data", name).read_text()
    comments = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    header = rows[0].split(",")
    data = np.array([[float(cell) for cell in row.split(",")] for row in rows[1:]], dtype=np.float64)
    return header, data, " ".join(comments)


@dataclass(frozen=True)
class ReferenceConditions:
    """The Reynolds numbers a reference holds data at, and how far a case's may be from one and be compared.

    A reference only validates a case run at its own conditions: a step at Re_H 88,000 compared with a
    measurement at 22,000 says nothing about either. Comparators check this before any metric.
    """

    quantity: str
    values: tuple[float, ...]
    tolerance: float
    """Relative difference of the case's Reynolds number from the reference's that is still compared."""
    source: str

    def nearest(self, reynolds: float, tolerance: float | None = None) -> float | None:
        """The reference's Reynolds number within tolerance of `reynolds`, or None."""
        allowed = self.tolerance if tolerance is None else tolerance
        best = min(self.values, key=lambda value: abs(reynolds - value) / value)
        return best if abs(reynolds - best) <= allowed * best else None

    def mismatch(self, reynolds: float, tolerance: float | None = None) -> str | None:
        """Why a case at `reynolds` cannot be compared with this reference, or None when it can."""
        if self.nearest(reynolds, tolerance) is not None:
            return None
        allowed = self.tolerance if tolerance is None else tolerance
        listed = ", ".join(f"{value:,.0f}" for value in self.values)
        return (
            f"the case's Reynolds number {self.quantity} = {reynolds:,.6g} is not the reference's: {self.source} "
            f"holds data at {self.quantity} = {listed} only (tolerance {100 * allowed:g} %), so it is not compared"
        )


def ghia_conditions() -> ReferenceConditions:
    """Ghia's tables: each at its own Re; 1 % moves the centreline velocities far less than the comparison's limit."""
    return ReferenceConditions(
        quantity="Re",
        values=tuple(float(value) for value in ghia_reynolds_numbers()),
        tolerance=0.01,
        source="Ghia, Ghia & Shin (1982)",
    )


def ghia_reynolds_numbers() -> list[int]:
    header, _, _ = _read_table("ghia1982_u_vertical_centreline.csv")
    return [int(column.removeprefix("Re")) for column in header[1:]]


def _excluded_points() -> list[tuple[str, int, float, str]]:
    text = resources.files("tools.cfd").joinpath("data", "ghia1982_excluded_points.csv").read_text()
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")][1:]
    result = []
    for row in rows:
        table, re_text, coordinate, reason = row.split(",", 3)
        result.append((table, int(re_text), float(coordinate), reason))
    return result


def ghia_profiles(reynolds: float) -> tuple[ReferenceProfile, ReferenceProfile]:
    """u(y) on the vertical centreline and v(x) on the horizontal one, at a tabulated Re."""
    profiles = []
    excluded = _excluded_points()
    for table, name, line in (
        ("u", "ghia1982_u_vertical_centreline.csv", "u/U along x/L = 0.5"),
        ("v", "ghia1982_v_horizontal_centreline.csv", "v/U along y/L = 0.5"),
    ):
        header, data, notes = _read_table(name)
        column = f"Re{round(reynolds)}"
        if column not in header or abs(reynolds - round(reynolds)) > 1e-9:
            available = ", ".join(h.removeprefix("Re") for h in header[1:])
            raise KeyError(f"Ghia et al. (1982) tabulate Re = {available}; no data at Re = {reynolds:g}")
        index = header.index(column)
        order = np.argsort(data[:, 0])
        coordinate = data[order, 0]
        used = (coordinate > 0.0) & (coordinate < 1.0)
        notes_out = []
        for ex_table, ex_re, ex_coordinate, reason in excluded:
            if ex_table == table and ex_re == round(reynolds):
                hit = np.isclose(coordinate, ex_coordinate, atol=1e-6)
                used &= ~hit
                if hit.any():
                    notes_out.append(f"{table} at {ex_coordinate:g} not scored: {reason}")
        profiles.append(
            ReferenceProfile(
                coordinate=coordinate,
                value=data[order, index],
                used=used,
                source=GHIA_1982,
                description=f"{line}, Re = {round(reynolds)}. {notes}",
                exclusions=tuple(notes_out),
            )
        )
    return profiles[0], profiles[1]


XIAO_2020 = (
    "Xiao, Wu, Laizet & Duan (2020), Computers & Fluids 200:104431, doi:10.1016/j.compfluid.2020.104431 "
    "(DNS, periodic hill alpha = 1, Re_h = 5600)"
)
PITZ_DAILY_1983 = "Pitz & Daily (1983), AIAA J. 21(11):1565-1570, doi:10.2514/3.8290"
WHITE_2006 = "White (2006), Viscous Fluid Flow, 3rd ed., eq. (6-121)"


def _csv(name: str) -> tuple[list[str], FloatArray]:
    header, data, _ = _read_table(name)
    return header, data


def hill_cf_reference() -> tuple[FloatArray, FloatArray]:
    """DNS lower-wall skin friction of the periodic hill: (x/h, Cf), sorted by x."""
    _, data = _csv("xiao2020_hill_cf.csv")
    order = np.argsort(data[:, 0])
    return data[order, 0], data[order, 1]


def hill_profile_reference() -> dict[float, tuple[FloatArray, FloatArray]]:
    """DNS mean streamwise velocity u/Ub against y/h at each station x/h."""
    _, data = _csv("xiao2020_hill_u_profiles.csv")
    stations: dict[float, tuple[FloatArray, FloatArray]] = {}
    for station in np.unique(data[:, 0]):
        rows = data[data[:, 0] == station]
        order = np.argsort(rows[:, 1])
        stations[float(station)] = (rows[order, 1], rows[order, 2])
    return stations


HILL_DNS_SEPARATION = 0.22
HILL_DNS_REATTACHMENT = 4.62
"""Zero crossings of the shipped DNS Cf table (the paper's figures give about 0.2h and 4.7h)."""


def step_reattachment_reference() -> tuple[float, float]:
    """(Re_H, x_r/H) measured by Pitz & Daily (1983)."""
    _, data = _csv("pitzdaily1983_reattachment.csv")
    return float(data[0, 0]), float(data[0, 1])


def step_conditions() -> ReferenceConditions:
    """Pitz & Daily's Re_H; 20 % admits the OpenFOAM pitzDaily tutorial that reproduces the experiment
    (U = 10 m/s, nu = 1e-5: Re_H = 25,400), where the fully turbulent reattachment length changes little."""
    re_h, _ = step_reattachment_reference()
    return ReferenceConditions(quantity="Re_H", values=(re_h,), tolerance=0.2, source="Pitz & Daily (1983)")


HILL_DNS_RE = 5600.0


def hill_conditions() -> ReferenceConditions:
    """The DNS's Re_h (bulk velocity at the crest times the hill height over nu)."""
    return ReferenceConditions(
        quantity="Re_h", values=(HILL_DNS_RE,), tolerance=0.05, source="the DNS of Xiao et al. (2020)"
    )


FLAT_PLATE_RE_X = (1e5, 1e9)
"""Local Reynolds numbers over which White's correlation is stated (fully turbulent flow)."""


def flat_plate_cf(re_x: FloatArray) -> FloatArray:
    """Turbulent flat-plate skin friction from White's correlation at local Reynolds numbers `re_x`."""
    _, data = _csv("white2006_flat_plate_cf.csv")
    a, b = float(data[0, 0]), float(data[0, 1])
    return np.asarray(a / np.log(b * re_x) ** 2, dtype=np.float64)
