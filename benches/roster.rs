//! Times a full-year generation for the demo county (16 studios × 18 members with monthly
//! reception days, plus a 30-member CPPCC Home pool on every working day, mornings and
//! afternoons). Run with `cargo bench --bench roster`.

#[path = "../tests/roster/common.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use zhiban::roster::generate;

fn main() {
    let input = common::demo_committee();
    // Warm-up, and the numbers we report about the roster itself.
    let roster = generate(&input);
    common::check_roster(&input, &roster).expect("hard rules hold");
    let spread = common::pool_spreads(&input, &roster).values().map(|(min, max)| max - min).max().unwrap_or(0);
    let assignments: usize = roster.shifts.iter().map(|s| s.assignments.len()).sum();
    println!(
        "demo county 2026: {} shifts, {} assignments, {} shortfalls, largest in-pool duty-count spread {}",
        roster.shifts.len(),
        assignments,
        roster.shortfalls.len(),
        spread
    );

    for committees in [1usize, 10, 100] {
        let started = Instant::now();
        for _ in 0..committees {
            black_box(generate(black_box(&input)));
        }
        let elapsed = started.elapsed();
        println!(
            "{committees:>3} committee(s): {elapsed:>10.2?} total, {:>8.2?} per committee",
            elapsed / u32::try_from(committees).unwrap()
        );
    }
}
