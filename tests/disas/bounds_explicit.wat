;; checks: bounds
;; Explicit bounds checks on a 32-bit memory and the ones left out (the
;; `;; bounds checks:` line above each function counts them).
(module
  (memory 1)
  ;; The first access through an index is checked; a later one through the same index
  ;; value with a smaller end is not, nor one at a constant offset from a checked index;
  ;; a larger end is checked again.
  (func $same_index (param $p i32) (result i32)
    (i32.load offset=8 (local.get $p))
    (i32.load offset=4 (local.get $p))
    i32.add
    (i32.load8_u offset=2 (i32.add (local.get $p) (i32.const 4)))
    i32.add
    (i32.load offset=12 (local.get $p))
    i32.add)
  ;; Constant addresses within the minimum size need no check; past it they do.
  (func $constant (result i32)
    (i32.load (i32.const 1024))
    (i32.load (i32.const 65534))
    i32.add)
  ;; A masked index (`i32.and`) or a narrow load bounds the address.
  (func $masked (param $p i32) (result i32)
    (i32.load offset=16 (i32.and (local.get $p) (i32.const 0xfff0)))
    (i32.load8_u (i32.load8_u (local.get $p)))
    i32.add)
  ;; A check before an `if` covers both arms; a check in one arm covers neither the
  ;; other arm nor what follows the `if`.
  (func $branches (param $p i32) (param $c i32) (result i32)
    (i32.store (local.get $p) (i32.const 1))
    (if (local.get $c)
      (then (i32.store (local.get $p) (i32.const 2))
            (i32.store offset=16 (local.get $p) (i32.const 3)))
      (else (i32.store offset=2 (local.get $p) (i32.const 4))))
    (i32.load offset=16 (local.get $p)))
  ;; A check before a loop covers the loop's accesses through the same index.
  (func $loop (param $p i32) (param $n i32) (result i32)
    (local $sum i32)
    (drop (i32.load offset=64 (local.get $p)))
    (loop $again
      (local.set $sum (i32.add (local.get $sum) (i32.load offset=32 (local.get $p))))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))
  (export "same_index" (func $same_index))
  (export "constant" (func $constant))
  (export "masked" (func $masked))
  (export "branches" (func $branches))
  (export "loop" (func $loop)))
