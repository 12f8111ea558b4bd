Require Import Reals.
Open Scope R_scope.

Theorem algebra_sqineq_unitcircatbpamblt1 :
  forall a b : R, 
  a^2 + b^2 = 1 -> a * b + (a - b) <= 1.
Proof.
Admitted.