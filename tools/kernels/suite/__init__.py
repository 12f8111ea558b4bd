"""The kernel task suite: one module per task, each with reference, seed, host program and roofline."""

from tools.kernels._task import KernelTask
from tools.kernels.suite._fft3d import Fft3d
from tools.kernels.suite._gradshaf import Gradshaf
from tools.kernels.suite._heat2d import Heat2d
from tools.kernels.suite._hmc import Hmc
from tools.kernels.suite._ising import Ising
from tools.kernels.suite._lbm import Lbm
from tools.kernels.suite._lj import LennardJones
from tools.kernels.suite._nbody import Nbody
from tools.kernels.suite._saxpy import Saxpy
from tools.kernels.suite._wave3d import Wave3d

SUITE: dict[str, KernelTask] = {
    task.name: task
    for task in (Saxpy(), Heat2d(), Wave3d(), Nbody(), Lbm(), Ising(), LennardJones(), Gradshaf(), Fft3d(), Hmc())
}

__all__ = [
    "SUITE",
    "Fft3d",
    "Gradshaf",
    "Heat2d",
    "Hmc",
    "Ising",
    "KernelTask",
    "Lbm",
    "LennardJones",
    "Nbody",
    "Saxpy",
    "Wave3d",
]
