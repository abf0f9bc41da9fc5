;; 32-bit memories rely on the guard region: an access is base + index + offset with no
;; explicit bounds check. On x86_64 the image's one fixed memory has a constant base (an
;; `iconst` that folds into the access's displacement).
(module
  (memory 1)
  (func (param i32) (result i32) (i32.load offset=16 (local.get 0)))
  (func (param i32) (result i64) (i64.load8_s (local.get 0)))
  (func (param i32 i64) (i64.store32 offset=4294967295 (local.get 0) (local.get 1)))
  (func (param i32 f64) (f64.store (local.get 0) (local.get 1)))
  ;; Narrow stores of constants become full-width stores of a narrow constant (x64
  ;; stores those as immediates); the constant keeps only its low bits.
  (func (param i32)
    (i32.store8 (local.get 0) (i32.const 257))
    (i32.store16 (local.get 0) (i32.const -1))
    (i64.store32 (local.get 0) (i64.const -2))
    (i64.store8 (local.get 0) (i64.const 0x1ff))))
