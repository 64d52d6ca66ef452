//! Timing by this thread's CPU time, so that other processes sharing the cores do not distort
//! single-thread rates.

use std::time::Instant;

/// Seconds this thread has run on a CPU (Linux `schedstat`), where the kernel reports it.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 * 1e-9)
}

/// Calls `step` (which returns the units of work it did) repeatedly for at least `seconds` of
/// wall time and returns units per second of this thread's CPU time (wall time where CPU time
/// is unavailable). One untimed call warms caches first.
pub fn rate(seconds: f64, mut step: impl FnMut() -> usize) -> f64 {
    step();
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut units = 0usize;
    while wall.elapsed().as_secs_f64() < seconds {
        units += step();
    }
    let elapsed = match (cpu, cpu_seconds()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall.elapsed().as_secs_f64(),
    };
    units as f64 / elapsed
}
