Require Import Reals.
Open Scope R_scope.

Theorem amc12b_2021_p9 :
  (ln 80 / ln 2) / (ln 2 / ln 40) - (ln 160 / ln 2) / (ln 2 / ln 20) = 2.
Proof.
Admitted.