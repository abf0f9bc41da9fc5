;; 32-bit memories rely on the guard region: an access is base + index + offset with no
;; explicit bounds check; the base is a read-only, movable load from the VM context.
(module
  (memory 1)
  (func (param i32) (result i32) (i32.load offset=16 (local.get 0)))
  (func (param i32) (result i64) (i64.load8_s (local.get 0)))
  (func (param i32 i64) (i64.store32 offset=4294967295 (local.get 0) (local.get 1)))
  (func (param i32 f64) (f64.store (local.get 0) (local.get 1))))
