;; A trap in the start function ends the program before `_start`.
(module (func $start unreachable) (start $start) (func (export "_start")))
