;; prelude
;; build: --fuel 100000
;; A bounded computation that fits its budget finishes exactly as without one: the sum of
;; 1..1000 (about 9,000 instructions) under a budget of 100,000, through calls, a loop and
;; a recursion.
(module
  (memory (export "memory") 1)
  (func $add (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func $fact (param i64) (result i64)
    (if (result i64) (i64.le_u (local.get 0) (i64.const 1))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fact (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "_start") (local $i i64) (local $sum i64)
    (loop $next
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (local.set $sum (call $add (local.get $sum) (local.get $i)))
      (br_if $next (i64.lt_u (local.get $i) (i64.const 1000))))
    (call $print_i64 (local.get $sum))
    (call $nl)
    (call $print_i64 (call $fact (i64.const 20)))
    (call $nl)))
