;; Found by the differential fuzzer (seed 77, case 203): a function taking a v128 and
;; returning a null funcref read as non-null. The harness trampoline wrote the 8-byte
;; result into slot 0 over the 16-byte argument, whose high bytes stayed; a reference
;; is compared by being zero or not. Results now fill their whole slot.
(module
  (func (export "null") (param v128) (result funcref) (ref.null func))
  (func (export "narrow") (param v128 v128) (result i32 f32 i64 externref)
    (i32.const -1) (f32.const -0) (i64.const 1) (ref.null extern)))
