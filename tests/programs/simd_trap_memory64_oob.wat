;; A v128.load32_lane from a 64-bit memory whose 4 bytes end one past its end (explicit
;; bounds check).
(module (memory i64 1)
  (func $load (param i64) (result v128)
    (v128.load32_lane 2 (local.get 0) (v128.const i64x2 0 0)))
  (func (export "_start") (drop (call $load (i64.const 65533)))))
