"""The internal faces of the mesh a result lives on, checked against the result's cell count.

Two gates walk a mesh's cell-to-cell faces (the vision gate's odd-even index, the mesh gate's connected
regions); both must refuse face lists that are not this result's mesh rather than read past them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tools.cfd import FieldFormatError, mesh_folder, read_label_list


class MeshMismatchError(FieldFormatError):
    """The mesh's face lists were read but do not fit the field: skipping the check would let a case
    dodge it, so the gate rejects."""


def internal_faces(case: Path, folder: Path | None, cells: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The owner and neighbour cell of each internal face of the mesh `folder`'s fields live on
    (`mesh_folder`).

    Raises:
        FieldFormatError: a face list cannot be read.
        MeshMismatchError: the lists do not fit `cells` cells (a label past the last cell, fewer owners
            than neighbours): no mesh of this result.
    """
    mesh = mesh_folder(case, folder)
    owner = read_label_list(mesh / "owner", within=case)
    neighbour = read_label_list(mesh / "neighbour", within=case)
    if len(owner) < len(neighbour):
        raise MeshMismatchError(f"{mesh.name}/owner lists fewer faces ({len(owner)}) than neighbour ({len(neighbour)})")
    owner = owner[: len(neighbour)]
    for name, labels in (("owner", owner), ("neighbour", neighbour)):
        if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= cells):
            raise MeshMismatchError(
                f"the mesh's {name} list names cells outside the field's {cells}: not this field's mesh"
            )
    return owner, neighbour
