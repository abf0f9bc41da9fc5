;; call_indirect with the wrong signature.
(module (type $t (func (result i32))) (table 1 funcref) (func $f (param i32)) (elem (i32.const 0) $f)
  (func $call (result i32) (call_indirect (type $t) (i32.const 0)))
  (func (export "_start") (drop (call $call))))
