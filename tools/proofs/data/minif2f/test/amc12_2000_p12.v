Theorem amc12_2000_p12 (A M C : nat) (h0 : A + M + C = 12) : 
  A * M * C + A * M + M * C + A * C <= 112.
Proof.
Admitted.