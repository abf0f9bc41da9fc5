//! Control frames: the structured control flow of wasm mapped onto Cranelift blocks.

use cranelift_codegen::ir::{Block, Type, Value};

/// What kind of construct a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// `block` (and the function body).
    Block,
    /// `loop`: branches go back to `header`.
    Loop {
        /// The loop header, whose parameters are the loop's parameters.
        header: Block,
    },
    /// `try_table`: calls inside it catch exceptions through its handlers.
    TryTable,
    /// `if`: `else_block` runs when the condition is false.
    If {
        /// The block for the false branch.
        else_block: Block,
        /// Whether an `else` was seen.
        has_else: bool,
        /// Whether the `if` was entered from reachable code (then its `else` is too).
        head_reachable: bool,
    },
}

/// One entered block, loop or if.
#[derive(Debug, Clone)]
pub struct ControlFrame {
    /// The construct.
    pub kind: FrameKind,
    /// Where control continues after `end`; its parameters are the results. Created by
    /// the first branch that exits the frame: when only falling through reaches `end`,
    /// code simply continues in the current block, which saves Cranelift a block and its
    /// parameters at every such `end` (most `loop`s, and `block`s left only by falling
    /// through).
    pub destination: Option<Block>,
    /// Types of the construct's parameters.
    pub param_types: Vec<Type>,
    /// Types of the construct's results.
    pub result_types: Vec<Type>,
    /// Value stack height below the parameters.
    pub stack_height: usize,
    /// For `if`: the parameter values, pushed again for the `else` branch.
    pub else_params: Vec<Value>,
    /// For `try_table`: its catch clauses, in order.
    pub handlers: Vec<Handler>,
}

/// What a catch clause passes to its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchKind {
    /// The tag's values (`catch`).
    Values,
    /// The tag's values and the exception reference (`catch_ref`).
    ValuesAndRef,
    /// Nothing (`catch_all`).
    Nothing,
    /// The exception reference (`catch_all_ref`).
    Ref,
}

/// One catch clause of a `try_table`.
#[derive(Debug, Clone)]
pub struct Handler {
    /// Image-wide tag number, or `wafer_abi::exceptions::CATCH_ALL`.
    pub tag: u32,
    /// The tag's index in the module (for its payload types); unused for catch-alls.
    pub tag_index: u32,
    /// Where the unwinder lands; one parameter, the exception object.
    pub block: Block,
    /// What is passed on.
    pub kind: CatchKind,
    /// The label's block and how many values it takes.
    pub target: (Block, usize),
}

impl ControlFrame {
    /// A frame whose exit block does not exist yet.
    pub fn new(
        kind: FrameKind,
        param_types: Vec<Type>,
        result_types: Vec<Type>,
        stack_height: usize,
    ) -> Self {
        ControlFrame {
            kind,
            destination: None,
            param_types,
            result_types,
            stack_height,
            else_params: Vec::new(),
            handlers: Vec::new(),
        }
    }
}
