"""Which words of a goal can choose a task, and which never can.

A goal names a subject (the physical system, the kernel, the theorem) and wraps it in words about
the kind of work ("simulate", "validate", "faster", "kernel", "prove") and the field ("flow",
"velocity", "mesh"). Only the subject may choose a task: "flow over an airfoil" shares "flow" with the
channel-flow task, and that must not make it the channel-flow task. `GENERIC` lists the words of
research goals across fields that describe work, method or field rather than a subject; they still
rank candidates a little, and tell which workload a goal is about, but never decide. `FILLER` words
carry no meaning at all. `SYNONYMS` folds spellings to one word (applied after plural folding).
"""

from __future__ import annotations

_FILLER_WORDS = """
    a an the and or of to in on at by for with from into onto over under about above below across along
    around through past near between against within without via per as than then so such that this these
    those there here it its is are was were be been being do does did done has have had having not no nor
    but if when where which while who whom whose what how why all any some each every both either neither
    other another more most less least few many much very too also only just same own our ours my mine
    your we us you they them their i me he she his her can could may might will would shall should must
    let lets please want wish like need needs try tries trying make makes making get gets getting give
    gives see show shows tell find found look looking whether one two three four five six seven eight nine
    ten first second third new now today again still already well quite rather really actually
    something anything thing things way ways kind sort lot lots bit able possible please thank thanks
    e g ie eg etc vs versus using use used uses run runs running ran go going done up down out off
    wanted kindly et al note describe described describes document text read according following
    section chapter report says said mentioned given write create build produce generate obtain perform
    conduct carry attempt explore apply provide design develop determine demonstrate establish examine plan
    propose quantify explain understand identify learn start begin continue finish complete whole entire
"""

_GENERIC_WORDS = """
    simulate model modeling modelling compute computation calculate solve solver study investigate analyze
    analyse analysis validate validation verify verification check compare comparison benchmark reproduce
    replicate test evaluate evaluation assess measure measurement predict prediction estimate calibrate
    calibration tune tuning optimize optimization improve improvement faster speed performance efficient
    efficiency throughput evolve evolution search kernel code program implementation implement gpu cpu device
    accelerator hardware parallel flow fluid cfd velocity pressure profile field mesh grid resolution case
    setup problem experiment result data reference solution analytic numerical accuracy accurate error
    convergence converge laminar turbulent turbulence incompressible compressible steady unsteady transient
    2d 3d 1d dimensional dimension rans les dns openfoam foam prove statement formal coq lean isabelle math
    mathematic mathematical competition olympiad better good best simple standard classic classical physics
    physical quantity number parameter value set small large high low known experimental measured paper
    literature method scheme algorithm routine loop system equation boundary condition point sweep step
    explicit implicit plane planar coefficient force cell list chain exact bit check statistical variable
    max min work job task tool agent lab labgate catalog suite naive seed baseline held size sizes correct
    correctness cfd kernels proofs domain geometry shape body object version default against solution
    numeric precision single double float rate time second minute hour fast quick re reynold axis valid split
    usable compile bitexact allow
"""

SYNONYMS: dict[str, str] = {
    # kinds of work, spelled the way the catalog's tasks spell them
    "proof": "prove",
    "proving": "prove",
    "proven": "prove",
    "provable": "prove",
    "theorem": "statement",
    "lemma": "statement",
    "proposition": "statement",
    "conjecture": "statement",
    "formalize": "formal",
    "formalise": "formal",
    "formalization": "formal",
    "formalisation": "formal",
    "speedup": "faster",
    "accelerate": "faster",
    "acceleration": "faster",
    "quicker": "faster",
    "optimise": "optimize",
    "optimisation": "optimization",
    "optimizing": "optimize",
    "optimising": "optimize",
    "simulation": "simulate",
    "simulating": "simulate",
    "simulated": "simulate",
    "validating": "validate",
    "validated": "validate",
    "benchmarking": "benchmark",
    "calibrating": "calibrate",
    "kernal": "kernel",
    "gpus": "gpu",
    # spellings of the same thing
    "aerofoil": "airfoil",
    "centerline": "centreline",
    "modelling": "modeling",
}


def stem(word: str) -> str:
    """The word in lower case without a plural ending, then mapped to the catalog's synonym."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith("sses"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return SYNONYMS.get(word, word)


def _folded(text: str) -> frozenset[str]:
    """The words of a list as written and as `stem` folds them (goals are compared after folding)."""
    listed = text.split()
    return frozenset(listed) | frozenset(stem(word) for word in listed)


FILLER = _folded(_FILLER_WORDS)
GENERIC = _folded(_GENERIC_WORDS)
