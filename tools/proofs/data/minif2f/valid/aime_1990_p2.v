Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope R_scope.

Theorem aime_1990_p2:
  Rpower (52 + 6 * sqrt 43) (3/2) - Rpower (52 - 6 * sqrt 43) (3/2) = 828.

Proof.
