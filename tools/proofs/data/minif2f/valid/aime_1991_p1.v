Theorem aime_1991_p1 :
  forall (x y : nat),
    (x * y + x + y = 71) ->
    (x*x * y + x * y*y = 880) ->
    (x*x + y*y = 146).
Proof.
Admitted.
