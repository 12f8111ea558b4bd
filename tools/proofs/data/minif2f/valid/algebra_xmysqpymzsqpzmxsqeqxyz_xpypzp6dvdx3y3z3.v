Require Import ZArith.
Open Scope Z_scope.

Theorem algebra_xmysqpymzsqpzmxsqeqxyz_xpypzp6dvdx3y3z3:
  forall (x y z : Z),
  (Z.pow (x - y) 2) + (Z.pow (y - z) 2) + (Z.pow (z - x) 2) = x * y * z ->
  Z.divide (x + y + z + 6) (Z.pow x 3 + Z.pow y 3 + Z.pow z 3).

Proof.
