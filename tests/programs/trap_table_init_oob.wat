;; table.init past the end of the segment.
(module (table 4 funcref) (func $f) (elem $e func $f $f) (func $init (table.init $e (i32.const 0) (i32.const 1) (i32.const 2)))
  (func (export "_start") (call $init)))
