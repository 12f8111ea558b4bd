Require Import Arith.

Theorem mathd_numbertheory_345 :
  (2000 + 2001 + 2002 + 2003 + 2004 + 2005 + 2006) mod 7 = 0.
Proof.
Admitted.