;; Conversions between integer widths and to and from floats.
(module
  (func (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
  (func (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
  (func (param f64) (result i64) (i64.trunc_f64_s (local.get 0)))
  (func (param f32) (result i32) (i32.trunc_sat_f32_u (local.get 0)))
  (func (param i64) (result f32) (f32.convert_i64_u (local.get 0)))
  (func (param f64) (result i64) (i64.reinterpret_f64 (local.get 0))))
