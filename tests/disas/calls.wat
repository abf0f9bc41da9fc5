;; Direct wasm calls use the tail calling convention with the VM context first; host
;; imports the C convention; call_indirect checks bounds, null and type; return_call is
;; a real tail call.
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (type $t (func (param i32) (result i32)))
  (table 4 funcref)
  (func $callee (type $t) (local.get 0))
  (func (param i32) (result i32) (call $callee (local.get 0)))
  (func (result i32) (call $yield))
  (func (param i32 i32) (result i32) (call_indirect (type $t) (local.get 0) (local.get 1)))
  (func (param i32) (result i32) (return_call $callee (local.get 0)))
  (func (param i32) (result i32) (call_ref $t (local.get 0) (ref.func $callee)))
  (elem declare func $callee))
