;; prelude
;; A table that grows a thousand times, by the function itself and by a callee, with
;; calls through it between: on a board the table moves to a bigger block as it grows,
;; and the caller must find its elements at the new place (a base loaded before the
;; growth is stale).
(module
  (memory (export "memory") 1)
  (type $unary (func (param i32) (result i32)))
  (table $t 1 funcref)
  (elem (table $t) (i32.const 0) func $double)
  (elem declare func $inc)
  (func $double (type $unary) (i32.mul (local.get 0) (i32.const 2)))
  (func $inc (type $unary) (i32.add (local.get 0) (i32.const 1)))
  ;; Grows the table by one element set to $inc: called, so the growth happens out of
  ;; the caller's sight.
  (func $grow_by_one (result i32)
    (table.grow $t (ref.func $inc) (i32.const 1)))
  (func $main (export "_start") (local $i i32) (local $sum i32)
    (loop $again
      ;; A call through the table, then growth in place here, then in a callee.
      (local.set $sum (i32.add (local.get $sum)
        (call_indirect $t (type $unary) (local.get $i) (i32.const 0))))
      (drop (table.grow $t (ref.func $double) (i32.const 1)))
      (local.set $sum (i32.add (local.get $sum)
        (call_indirect $t (type $unary) (local.get $i)
          (i32.sub (table.size $t) (i32.const 1)))))
      (drop (call $grow_by_one))
      (local.set $sum (i32.add (local.get $sum)
        (call_indirect $t (type $unary) (local.get $i)
          (i32.sub (table.size $t) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 1000))))
    (call $print_i32 (table.size $t)) (call $sp)
    (call $print_i32 (local.get $sum)) (call $nl)
    ;; Every element is still right after all the moves: even slots $inc, odd $double
    ;; (slot 0 is the original $double).
    (local.set $i (i32.const 0))
    (local.set $sum (i32.const 0))
    (loop $check
      (local.set $sum (i32.add (local.get $sum)
        (call_indirect $t (type $unary) (i32.const 10) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $check (i32.lt_u (local.get $i) (table.size $t))))
    (call $print_i32 (local.get $sum)) (call $nl))
)
