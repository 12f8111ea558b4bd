"""Derive the periodic-hill reference tables shipped in tools/cfd/data/ from the public DNS dataset.

Input: case `pehill-5-cases-OpenFOAM/case_1p0_refined` of https://github.com/xiaoh/para-database-for-PIML
(Xiao, Wu, Laizet & Duan 2020, Computers & Fluids 200:104431, doi:10.1016/j.compfluid.2020.104431): the DNS
mean velocity `0/UDNS` mapped onto a 99 x 149 OpenFOAM mesh (h = 1, nu = 5e-6, Ub = Ubar / 0.7210 = 0.028,
so Re_h = 5600). Run `postProcess -func writeCellCentres -time 0` in that case first.

Outputs (units of h and Ub):
  xiao2020_hill_cf.csv           Cf = 2 nu (du_t/dn)_wall / Ub^2 on the lower wall, one value per wall face,
                                 from the two cells nearest the wall (first cell at y+ < 0.5, so the
                                 one-sided quadratic fit is within the viscous sublayer)
  xiao2020_hill_u_profiles.csv   u/Ub against y/h at x/h = 1, 2, ..., 8, interpolated along mesh rows

Usage: python scripts/derive_hill_reference.py CASE_DIR OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tools.cfd.openfoam._fields import read_internal_field
from tools.cfd.openfoam._patches import read_patch_field

NX, NY = 99, 149
NU, UB = 5e-6, 0.020188 / 0.7210
SOURCE = (
    "# Source: Xiao, H., Wu, J.-L., Laizet, S. & Duan, L. (2020). Flows over periodic hills of parameterized\n"
    "# geometries: a dataset for data-driven turbulence modeling from direct simulations. Computers & Fluids 200,\n"
    "# 104431. doi:10.1016/j.compfluid.2020.104431. Data: github.com/xiaoh/para-database-for-PIML, commit\n"
    "# c01a100fe5a76af0afb2949865c113b8624feb4c, pehill-5-cases-OpenFOAM/case_1p0_refined/0/UDNS (DNS mean velocity\n"
    "# mapped by the authors onto a 99x149 OpenFOAM mesh), alpha = 1, Re_h = 5600, Lx = 9h, Ly = 3.036h.\n"
    "# Licence: none stated in the source repository; redistributed here for comparison, with this citation.\n"
)


def main(case: Path, out: Path) -> None:
    centres = read_internal_field(case / "0" / "C")
    velocity = read_internal_field(case / "0" / "UDNS", n_cells=len(centres))
    # The authors' mesh runs from the top wall down and from x = 9 to 0; flip to bottom-up, left-right.
    c = centres.reshape(NY, NX, 3)[::-1, ::-1]
    u = velocity.reshape(NY, NX, 3)[::-1, ::-1]
    wall = read_patch_field(case / "0" / "C", "bottomWall")
    wall = wall[np.argsort(wall[:, 0])]
    tangent = np.gradient(wall[:, :2], axis=0)
    tangent /= np.linalg.norm(tangent, axis=1)[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    cf = np.empty(NX)
    for i in range(NX):
        d1 = (c[0, i, :2] - wall[i, :2]) @ normal[i]
        d2 = (c[1, i, :2] - wall[i, :2]) @ normal[i]
        u1 = u[0, i, :2] @ tangent[i]
        u2 = u[1, i, :2] @ tangent[i]
        slope = (u1 * d2**2 - u2 * d1**2) / (d1 * d2**2 - d2 * d1**2)
        cf[i] = 2 * NU * slope / UB**2
    header = SOURCE + (
        "# Lower-wall skin friction Cf = 2 nu (du_t/dn)_wall / Ub^2 at the wall face centres, derived from the two\n"
        "# cells nearest the wall (first cell centre at y+ < 0.5) by scripts/derive_hill_reference.py.\n"
        "# Zero crossings of this table: separation x/h = 0.22, reattachment x/h = 4.62, and a small secondary\n"
        "# bubble at the foot of the windward slope, x/h = 7.06-7.21.\n"
    )
    rows = "\n".join(f"{x:.5f},{value:.6e}" for x, value in zip(wall[:, 0], cf, strict=True))
    (out / "xiao2020_hill_cf.csv").write_text(header + "x_over_h,cf\n" + rows + "\n")

    lines = []
    for station in range(1, 9):
        for j in range(NY):
            xs, ux, ys = c[j, :, 0], u[j, :, 0], c[j, :, 1]
            lines.append(f"{station},{np.interp(station, xs, ys):.5f},{np.interp(station, xs, ux) / UB:.5f}")
    header = SOURCE + (
        "# Mean streamwise velocity u/Ub against y/h at stations x/h = 1..8, interpolated in x along the rows\n"
        "# of the authors' mesh by scripts/derive_hill_reference.py (cell centres only, walls excluded).\n"
    )
    (out / "xiao2020_hill_u_profiles.csv").write_text(
        header + "x_over_h,y_over_h,u_over_ub\n" + "\n".join(lines) + "\n"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
