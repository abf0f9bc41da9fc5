;; Inside a try_table, calls become try_calls listing the catch clauses innermost first;
;; throw allocates an exception object, stores the values and calls the runtime.
(module
  (tag $e (param i32))
  (func $may_throw (param i32) (if (local.get 0) (then (throw $e (i32.const 7)))))
  (func (param i32) (result i32)
    (block $caught (result i32)
      (try_table (catch $e $caught)
        (call $may_throw (local.get 0)))
      (i32.const 0)))
  (func (param i32) (result exnref)
    (block $all (result exnref)
      (try_table (catch_all_ref $all)
        (call $may_throw (local.get 0)))
      (ref.null exn))))
