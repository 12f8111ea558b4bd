Require Import Reals.
Open Scope R_scope.

Theorem amc12a_2013_p4 :
  (2^2014 + 2^2012) / (2^2014 - 2^2012) = (5 / 3)%R.
Proof.
Admitted.