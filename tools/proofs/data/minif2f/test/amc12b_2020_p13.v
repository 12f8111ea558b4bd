Require Import Reals.
Open Scope R_scope.

Theorem amc12b_2020_p13:
  sqrt ((ln 6 / ln 2) + (ln 6 / ln 3)) = sqrt (ln 3 / ln 2) + sqrt (ln 2 / ln 3).
Proof.
Admitted.