//! Turning a component-model `.wast` script into a plan: the component instances of one
//! harness image (every `component` directive and `component instance` of a definition)
//! and the steps to run against it. Assertions about components that must not compile
//! (`assert_invalid`, `assert_malformed`) are decided while planning, by wafer's
//! component front end.

use std::collections::HashMap;

use wafer::error::CompileError;
use wafer_canon::{FuncType, Types, Val};
use wast::{QuoteWat, WastDirective, WastExecute, WastInvoke};

use crate::values;

/// One component instance of the image.
pub struct Instance {
    /// The component, binary.
    pub wasm: Vec<u8>,
    /// Its exported functions, in the image's order: name and type.
    pub exports: Vec<(String, Option<usize>)>,
    /// The types of its exports.
    pub types: Types,
    /// Its exports' function types.
    pub funcs: Vec<FuncType>,
}

/// What a step expects.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Success, results unchecked.
    Success,
    /// Success with these results.
    Values(Vec<Val>),
    /// A trap whose message is this.
    Trap(String),
    /// A link failure.
    Unlinkable,
}

/// One step of the script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Instantiate a component; `assertion` is false for plain directives.
    Instantiate {
        instance: usize,
        expect: Expect,
        assertion: bool,
        line: usize,
    },
    /// Call an exported function with these arguments (their value encoding).
    Call {
        instance: usize,
        export: usize,
        args: Vec<u8>,
        expect: Expect,
        line: usize,
    },
    /// An assertion decided while planning (or, with `definition`, a component
    /// definition checked while planning: it counts as a component).
    Decided {
        result: Result<(), String>,
        definition: bool,
        line: usize,
    },
    /// A command that could not be planned.
    Broken { why: String, line: usize },
}

impl Step {
    pub fn line(&self) -> usize {
        match self {
            Step::Instantiate { line, .. }
            | Step::Call { line, .. }
            | Step::Decided { line, .. }
            | Step::Broken { line, .. } => *line,
        }
    }
}

/// The plan for one script.
pub struct Plan {
    pub instances: Vec<Instance>,
    pub steps: Vec<Step>,
}

struct Planner {
    plan: Plan,
    /// Component instance ids.
    names: HashMap<String, usize>,
    /// `component definition`s by id.
    definitions: HashMap<String, Vec<u8>>,
    current: Option<usize>,
    line_of: Box<dyn Fn(wast::token::Span) -> usize>,
    /// The `cancellable` flags of the built-ins written in the current directive
    /// (`cancellable.rs`).
    cancellable: Vec<bool>,
}

/// Why wafer's front end rejects `wasm`, if it does.
fn translate(wasm: &[u8]) -> Result<wafer::component::ComponentPlan<'_>, CompileError> {
    if !wafer::component::is_component(wasm) {
        return Err(CompileError::unsupported(
            "a core module where the script expects a component",
        ));
    }
    wafer::component::translate(wasm)
}

impl Planner {
    /// Adds a component instance of `wasm`; `Err` when wafer cannot translate it.
    fn add_instance(&mut self, wasm: Vec<u8>) -> Result<usize, String> {
        let plan = translate(&wasm).map_err(|e| e.to_string())?;
        let exports = plan
            .exports
            .iter()
            .map(|export| (export.name.clone(), export.func_type))
            .collect();
        let (types, funcs) = (plan.types.clone(), plan.funcs.clone());
        drop(plan);
        self.plan.instances.push(Instance {
            wasm,
            exports,
            types,
            funcs,
        });
        Ok(self.plan.instances.len() - 1)
    }

    fn instance_named(&self, id: Option<wast::token::Id<'_>>) -> Option<usize> {
        match id {
            Some(id) => self.names.get(id.name()).copied(),
            None => self.current,
        }
    }

    fn invoke(
        &self,
        invoke: &WastInvoke<'_>,
        results: Option<&[wast::WastRet<'_>]>,
        expect: Expect,
        line: usize,
    ) -> Step {
        let Some(instance) = self.instance_named(invoke.module) else {
            return Step::Broken {
                why: "the component to invoke was not instantiated".into(),
                line,
            };
        };
        let component = &self.plan.instances[instance];
        let Some(export) = component
            .exports
            .iter()
            .position(|(name, _)| name == invoke.name)
        else {
            return Step::Broken {
                why: format!("no export `{}`", invoke.name),
                line,
            };
        };
        let Some(func) = component.exports[export]
            .1
            .and_then(|f| component.funcs.get(f))
        else {
            return Step::Broken {
                why: format!("the type of `{}` is not supported", invoke.name),
                line,
            };
        };
        let planned = (|| -> Result<(Vec<u8>, Expect), String> {
            if invoke.args.len() != func.params.len() {
                return Err(format!(
                    "{} arguments for {} parameters",
                    invoke.args.len(),
                    func.params.len()
                ));
            }
            let args = func
                .params
                .iter()
                .zip(&invoke.args)
                .map(|(ty, arg)| values::argument(&component.types, *ty, arg))
                .collect::<Result<Vec<_>, _>>()?;
            let args = wafer_canon::encode::encode_vals(&component.types, &func.params, &args)
                .map_err(|trap| format!("the arguments do not encode: {trap}"))?;
            let expect = match results {
                None => expect,
                Some(results) => {
                    if results.len() != func.results.len() {
                        return Err(format!(
                            "{} results expected of a function with {}",
                            results.len(),
                            func.results.len()
                        ));
                    }
                    Expect::Values(
                        func.results
                            .iter()
                            .zip(results)
                            .map(|(ty, ret)| values::expected(&component.types, *ty, ret))
                            .collect::<Result<_, _>>()?,
                    )
                }
            };
            Ok((args, expect))
        })();
        match planned {
            Ok((args, expect)) => Step::Call {
                instance,
                export,
                args,
                expect,
                line,
            },
            Err(why) => Step::Broken { why, line },
        }
    }

    /// `assert_invalid` / `assert_malformed`: the component must not get past wafer's
    /// front end (or, for text, the text parser).
    fn must_not_compile(&self, module: &mut QuoteWat<'_>, line: usize) -> Step {
        let result = match module.encode() {
            Err(_) => Ok(()), // malformed text is rejected before wafer sees it
            // Whatever the bytes are (a component's preamble may be the thing broken).
            Ok(wasm) => match wafer::component::translate(&wasm) {
                Err(CompileError::InvalidWasm { .. }) => Ok(()),
                Err(other) => Err(format!("rejected for the wrong reason: {other}")),
                // The front end leaves function bodies to the compiler, which validates
                // each core module as it compiles it.
                Ok(plan) => match plan.modules.iter().find_map(|module| {
                    wafer::environ::validate_with(&module.wasm, wafer::environ::features()).err()
                }) {
                    Some(CompileError::InvalidWasm { .. }) => Ok(()),
                    Some(other) => Err(format!("rejected for the wrong reason: {other}")),
                    None => Err("the component was accepted".into()),
                },
            },
        };
        Step::Decided {
            result,
            definition: false,
            line,
        }
    }

    /// A component directive's instance, named `name`.
    fn instantiate(&mut self, wasm: Vec<u8>, name: Option<String>, line: usize) -> Step {
        match self.add_instance(wasm) {
            Ok(instance) => {
                self.current = Some(instance);
                if let Some(name) = name {
                    self.names.insert(name, instance);
                }
                Step::Instantiate {
                    instance,
                    expect: Expect::Success,
                    assertion: false,
                    line,
                }
            }
            Err(why) => {
                self.current = None;
                Step::Broken {
                    why: format!("component does not compile: {why}"),
                    line,
                }
            }
        }
    }

    fn execute(
        &mut self,
        exec: &mut WastExecute<'_>,
        results: Option<&[wast::WastRet<'_>]>,
        expect: Expect,
        line: usize,
    ) -> Step {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(invoke, results, expect, line),
            WastExecute::Wat(wat) => match self.patched(wat.encode()) {
                Ok(wasm) => match self.add_instance(wasm) {
                    Ok(instance) => Step::Instantiate {
                        instance,
                        expect,
                        assertion: true,
                        line,
                    },
                    Err(why) => Step::Decided {
                        result: Err(format!("component does not compile: {why}")),
                        definition: false,
                        line,
                    },
                },
                Err(e) => Step::Broken {
                    why: format!("cannot encode component: {e}"),
                    line,
                },
            },
            WastExecute::Get { .. } => Step::Broken {
                why: "components have no global exports".into(),
                line,
            },
        }
    }

    /// Encodes `module`, with the `cancellable` immediates the text had.
    fn encode(&self, module: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
        self.patched(module.encode())
    }

    /// An encoded component, with the `cancellable` immediates the text had.
    fn patched(&self, encoded: Result<Vec<u8>, wast::Error>) -> Result<Vec<u8>, String> {
        let mut wasm = encoded.map_err(|e| e.to_string())?;
        crate::cancellable::patch(&mut wasm, &self.cancellable)?;
        Ok(wasm)
    }

    fn directive(&mut self, directive: WastDirective<'_>) {
        let line = (self.line_of)(directive.span());
        let step = match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                match self.encode(&mut module) {
                    Ok(wasm) => self.instantiate(wasm, name, line),
                    Err(e) => Step::Broken {
                        why: format!("cannot encode component: {e}"),
                        line,
                    },
                }
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                match self.encode(&mut module) {
                    Ok(wasm) => {
                        // A definition must compile, even if it is never instantiated.
                        let result = translate(&wasm)
                            .map(drop)
                            .map_err(|e| format!("component does not compile: {e}"));
                        if let Some(name) = name {
                            self.definitions.insert(name, wasm);
                        }
                        Step::Decided {
                            result,
                            definition: true,
                            line,
                        }
                    }
                    Err(e) => Step::Broken {
                        why: format!("cannot encode component: {e}"),
                        line,
                    },
                }
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let wasm = module.and_then(|m| self.definitions.get(m.name()).cloned());
                match wasm {
                    Some(wasm) => {
                        self.instantiate(wasm, instance.map(|id| id.name().to_string()), line)
                    }
                    None => Step::Broken {
                        why: "unknown component definition".into(),
                        line,
                    },
                }
            }
            WastDirective::Register { .. } => Step::Broken {
                why: "registering a component instance (no script here does)".into(),
                line,
            },
            WastDirective::Invoke(invoke) => self.invoke(&invoke, None, Expect::Success, line),
            WastDirective::AssertReturn {
                mut exec, results, ..
            } => self.execute(&mut exec, Some(&results), Expect::Success, line),
            WastDirective::AssertTrap {
                mut exec, message, ..
            } => self.execute(&mut exec, None, Expect::Trap(message.to_string()), line),
            WastDirective::AssertUnlinkable { mut module, .. } => {
                match self.patched(module.encode()) {
                    Ok(wasm) => match self.add_instance(wasm) {
                        Ok(instance) => Step::Instantiate {
                            instance,
                            expect: Expect::Unlinkable,
                            assertion: true,
                            line,
                        },
                        // Linking a component happens while translating it.
                        Err(_) => Step::Decided {
                            result: Ok(()),
                            definition: false,
                            line,
                        },
                    },
                    Err(e) => Step::Broken {
                        why: format!("cannot encode component: {e}"),
                        line,
                    },
                }
            }
            WastDirective::AssertInvalid { mut module, .. }
            | WastDirective::AssertMalformed { mut module, .. } => {
                self.must_not_compile(&mut module, line)
            }
            WastDirective::AssertMalformedCustom { mut module, .. } => Step::Decided {
                result: match module.encode() {
                    Err(_) => Ok(()),
                    Ok(_) => Err("the malformed annotation was accepted".into()),
                },
                definition: false,
                line,
            },
            other => Step::Broken {
                why: format!(
                    "a directive component scripts do not use: {:?}",
                    other.span()
                ),
                line,
            },
        };
        self.plan.steps.push(step);
    }
}

/// Plans the script `text`.
pub fn plan(text: &str) -> Result<Plan, String> {
    let (text, marks) = crate::cancellable::strip(text);
    let text = text.as_str();
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = wast::parser::ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())?;
    let script = wast::parser::parse::<wast::Wast<'_>>(&buffer).map_err(|e| e.to_string())?;
    let owned = text.to_string();
    let mut planner = Planner {
        plan: Plan {
            instances: Vec::new(),
            steps: Vec::new(),
        },
        names: HashMap::new(),
        definitions: HashMap::new(),
        current: None,
        line_of: Box::new(move |span| span.linecol_in(&owned).0 + 1),
        cancellable: Vec::new(),
    };
    let starts: Vec<usize> = script
        .directives
        .iter()
        .map(|d| d.span().offset())
        .collect();
    for (i, directive) in script.directives.into_iter().enumerate() {
        let range = starts[i]..starts.get(i + 1).copied().unwrap_or(text.len());
        planner.cancellable = marks
            .iter()
            .filter(|(at, _)| range.contains(at))
            .map(|(_, cancellable)| *cancellable)
            .collect();
        planner.directive(directive);
    }
    Ok(planner.plan)
}
