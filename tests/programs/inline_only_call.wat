;; prelude
;; A function called from one place is inlined there whatever its size, and is not
;; compiled on its own: locals still start at zero on every call, `return` from nested
;; blocks continues after the call, a loop runs inside the caller, an exception thrown
;; below it reaches the caller's try_table, and a trap in it names it (with its own wasm
;; offset), not the function it was inlined into. The `drop`s pad functions past the
;; small-function limit, so that only the only-call-site rule applies.
(module
  (memory (export "memory") 1)
  (tag $oops (param i32))
  ;; Called only by $sum_to: sums 1..n in a loop; $acc must be zero at every call.
  (func $loop_sum (param $n i32) (result i32) (local $acc i32) (local $i i32)
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  ;; Called only by $classify, from a chain of blocks.
  (func $bucket (param $v i32) (result i32)
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (block $small
      (block $medium
        (block $large
          (br_if $small (i32.lt_s (local.get $v) (i32.const 10)))
          (br_if $medium (i32.lt_s (local.get $v) (i32.const 100)))
          (br_if $large (i32.lt_s (local.get $v) (i32.const 1000)))
          (return (i32.const 4)))
        (return (i32.const 3)))
      (return (i32.const 2)))
    (i32.const 1))
  ;; Called only by $sum_to; traps when $d is zero.
  (func $ratio (param $a i32) (param $d i32) (result i32)
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (i32.div_s (local.get $a) (local.get $d)))
  (func $raise (param $v i32) (throw $oops (local.get $v)))
  ;; Called only by $guarded; the call below it throws above a threshold.
  (func $maybe_throw (param $v i32) (result i32)
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (if (i32.gt_s (local.get $v) (i32.const 50))
      (then (call $raise (i32.mul (local.get $v) (i32.const 2)))))
    (i32.add (local.get $v) (i32.const 1)))
  (func $sum_to (param $n i32) (param $d i32) (result i32)
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (i32.add
      (call $loop_sum (local.get $n))
      (call $ratio (i32.const 100) (local.get $d))))
  (func $classify (param $v i32) (result i32)
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (i32.mul (call $bucket (local.get $v)) (i32.const 11)))
  (func $guarded (param $v i32) (result i32)
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (drop (i64.mul (i64.const 0x7123456789abcdef) (i64.const 0x1234567890abcdef)))
    (block $h (result i32)
      (try_table (catch $oops $h)
        (return (call $maybe_throw (local.get $v))))
      (unreachable)))
  (func (export "_start")
    (call $print_i32 (call $sum_to (i32.const 10) (i32.const 4)))
    (call $sp)
    (call $print_i32 (call $sum_to (i32.const 3) (i32.const 1)))
    (call $sp)
    (call $print_i32 (call $classify (i32.const 5)))
    (call $sp)
    (call $print_i32 (call $classify (i32.const 50)))
    (call $sp)
    (call $print_i32 (call $classify (i32.const 500)))
    (call $sp)
    (call $print_i32 (call $classify (i32.const 5000)))
    (call $sp)
    (call $print_i32 (call $guarded (i32.const 7)))
    (call $sp)
    (call $print_i32 (call $guarded (i32.const 70)))
    (call $sp)
    (call $print_i32 (call $sum_to (i32.const 2) (i32.const 0)))))
