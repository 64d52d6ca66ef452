//! Workspace-level integration tests live in `tests/tests/`; they cross crates (data
//! rendering → data reading, and later trainer → preset → evaluator, plugin in hosts).
