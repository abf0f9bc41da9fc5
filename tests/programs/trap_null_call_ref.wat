;; call_ref through a null reference.
(module (type $t (func)) (func $call (param (ref null $t)) (call_ref $t (local.get 0)))
  (func (export "_start") (call $call (ref.null $t))))
