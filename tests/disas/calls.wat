;; Direct wasm calls use the tail calling convention with the VM context first; host
;; imports the C convention; call_indirect checks bounds, null and type; return_call is
;; a real tail call. (`$callee` is too large to be inlined; see inline.wat.)
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (type $t (func (param i32) (result i32)))
  (table 4 funcref)
  (func $callee (type $t) (local $i i32)
    (loop $again
      (local.set 0 (i32.add (i32.mul (local.get 0) (i32.const 1103515245)) (i32.const 12345)))
      (local.set 0 (i32.xor (local.get 0) (i32.shr_u (local.get 0) (i32.const 16))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 1000))))
    (local.get 0))
  (func (param i32) (result i32) (call $callee (local.get 0)))
  (func (result i32) (call $yield))
  (func (param i32 i32) (result i32) (call_indirect (type $t) (local.get 0) (local.get 1)))
  (func (param i32) (result i32) (return_call $callee (local.get 0)))
  (func (param i32) (result i32) (call_ref $t (local.get 0) (ref.func $callee)))
  (elem declare func $callee))
