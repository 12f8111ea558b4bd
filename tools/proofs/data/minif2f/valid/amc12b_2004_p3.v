Require Import Arith.

Theorem amc12b_2004_p3:
  forall x y : nat,
  2^x * 3^y = 1296 -> x + y = 8.
Proof.
Admitted.