;; memory.init of a dropped segment.
(module (memory 1) (data $d "abc") (func $init (data.drop $d) (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "_start") (call $init)))
