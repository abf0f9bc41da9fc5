;; Float operators, including the ones with wasm-specific NaN and zero rules.
(module
  (func (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
  (func (param f64 f64) (result f64) (f64.copysign (local.get 0) (local.get 1)))
  (func (param f64) (result f64) (f64.nearest (local.get 0)))
  (func (param f32) (result f32) (f32.sqrt (local.get 0)))
  (func (param f64 f64) (result i32) (f64.le (local.get 0) (local.get 1))))
