Require Import Reals.

Open Scope R_scope.

Theorem algebra_bleqa_apbon2msqrtableqambsqon8b
  (a b : R)
  (h0 : 0 < a /\ 0 < b)
  (h1 : b <= a) :
  (a + b) / 2 - sqrt (a * b) <= ( (a - b) ^2 ) / (8 * b).
Proof.
Admitted.