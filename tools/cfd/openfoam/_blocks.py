"""blockMesh dictionaries for the rectangular single-block domains (channel, flat plate)."""

from __future__ import annotations

from tools.cfd.openfoam._foamdict import FoamValue, NamedList, Raw, Word, number, render_dict


def rectangle_mesh(
    *,
    length: float,
    height: float,
    cells_x: int,
    cells_y: int,
    grading_y: str = "1",
    grading_x: str = "1",
    patches: dict[str, tuple[str, str]],
    depth: float = 0.1,
) -> str:
    """One hex block [0, length] x [0, height]; `patches` maps name -> (side, OpenFOAM patch type).

    Sides: left, right, bottom, top; front/back are always one `empty` patch named frontAndBack.
    A cyclic pair names its partner as `cyclic:<other patch>`.
    """
    corners = [(0.0, 0.0), (length, 0.0), (length, height), (0.0, height)]
    vertices = [(x, y, 0.0) for x, y in corners] + [(x, y, depth) for x, y in corners]
    faces = {"left": "(0 4 7 3)", "right": "(1 2 6 5)", "bottom": "(0 1 5 4)", "top": "(3 7 6 2)"}
    boundary: dict[str, dict[str, FoamValue]] = {}
    for name, (side, kind) in patches.items():
        entry: dict[str, FoamValue] = {"type": Word(kind.split(":")[0]), "faces": Raw(f"({faces[side]})")}
        if kind.startswith("cyclic:"):
            entry["neighbourPatch"] = Word(kind.split(":", 1)[1])
        boundary[name] = entry
    boundary["frontAndBack"] = {"type": Word("empty"), "faces": Raw("((0 3 2 1) (4 5 6 7))")}
    body = {
        "convertToMeters": 1,
        "vertices": Raw(
            "\n(\n" + "\n".join(f"    ({number(a)} {number(b)} {number(c)})" for a, b, c in vertices) + "\n)"
        ),
        "blocks": Raw(
            f"\n(\n    hex (0 1 2 3 4 5 6 7) ({cells_x} {cells_y} 1) simpleGrading ({grading_x} {grading_y} 1)\n)"
        ),
        "boundary": NamedList(boundary),
    }
    return render_dict("dictionary", "system", "blockMeshDict", body)


def geometric_ratio(cells: int, length: float, first: float) -> float:
    """Last-over-first cell ratio of a one-sided geometric grading that starts at `first` and fills `length`."""
    if first * cells >= length:
        return 1.0
    low, high = 1.0 + 1e-12, 2.0
    while first * (high**cells - 1) / (high - 1) < length:
        high *= 2
    for _ in range(200):
        q = (low + high) / 2
        if first * (q**cells - 1) / (q - 1) > length:
            high = q
        else:
            low = q
    return float(((low + high) / 2) ** (cells - 1))
