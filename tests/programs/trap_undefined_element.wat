;; call_indirect with an index outside the table.
(module (type $t (func)) (table 1 funcref) (func $call (param i32) (call_indirect (type $t) (local.get 0)))
  (func (export "_start") (call $call (i32.const 5))))
