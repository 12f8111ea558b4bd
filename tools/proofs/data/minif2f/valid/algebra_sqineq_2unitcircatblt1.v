Require Import Reals.
Open Scope R_scope.

Theorem algebra_sqineq_2unitcircatblt1 : 
  forall a b : R, 
  a^2 + b^2 = 2 -> 
  a * b <= 1.
Proof.
Admitted.