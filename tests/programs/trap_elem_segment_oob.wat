;; An active element segment outside the table fails instantiation.
(module (table 1 funcref) (func $f) (elem (i32.const 1) $f) (func (export "_start")))
