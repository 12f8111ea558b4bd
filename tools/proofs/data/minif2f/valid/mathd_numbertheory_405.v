Require Import Nat.
Require Import PeanoNat.
Require Import ZArith.

Theorem mathd_numbertheory_405
  (a b c : nat)
  (t : nat -> nat)
  (h0 : t 0 = 0)
  (h1 : t 1 = 1)
  (h2 : forall n, n > 1 -> t n = t (n - 2) + t (n - 1))
  (h3 : a mod 16 = 5)
  (h4 : b mod 16 = 10)
  (h5 : c mod 16 = 15) :
  (t a + t b + t c) mod 7 = 5.
Proof.
Admitted.