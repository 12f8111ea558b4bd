Require Import PeanoNat.

Theorem mathd_numbertheory_517 :
  (121 * 122 * 123) mod 4 = 2.
Proof.
Admitted.