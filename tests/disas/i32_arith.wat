;; Integer arithmetic maps one-to-one onto Cranelift instructions; division traps.
(module
  (func (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (param i32 i32) (result i32) (i32.rem_u (local.get 0) (local.get 1)))
  (func (param i32 i32) (result i32) (i32.rotl (local.get 0) (local.get 1)))
  (func (param i32) (result i32) (i32.popcnt (local.get 0)))
  (func (param i32) (result i32) (i32.eqz (local.get 0)))
  (func (param i32 i32) (result i32) (i32.lt_u (local.get 0) (local.get 1)))
  (func (param i32) (result i32) (i32.extend8_s (local.get 0))))
