//! Tests of the evaluator against a plain f64 reference, per ISA.

mod equivalence;
mod networks;
mod reference;
mod sine;
mod speed;
mod storage;
mod validation;
