;; SIMD: v128 values are i8x16 between operators and bitcast (little-endian) to the lane
;; type an operator needs; pmin is a compare and bitselect, not fmin; shift amounts are
;; masked by Cranelift; a lane load reads (and bounds-checks) only the lane's bytes.
(module
  (memory 1)
  (func (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
  (func (param v128 v128) (result v128) (f32x4.pmin (local.get 0) (local.get 1)))
  (func (param v128 i32) (result v128) (i16x8.shr_s (local.get 0) (local.get 1)))
  (func (param v128 v128) (result v128)
    (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31 (local.get 0) (local.get 1)))
  (func (param v128) (result i32) (i32x4.bitmask (local.get 0)))
  (func (param v128) (result v128) (i32x4.trunc_sat_f64x2_u_zero (local.get 0)))
  (func (param i32 v128) (result v128) (v128.load16_lane offset=3 5 (local.get 0) (local.get 1)))
  (func (param i32) (result v128) (v128.load8x8_s (local.get 0))))
