//! The memory budget of a batch run (`--memory-budget`, cli.md "Memory"):
//! human sizes (`512MiB`, `2GB`, `1073741824`) and the default, a quarter of
//! the machine's memory (or of the cgroup's limit when that is lower).

use std::fmt;
use std::str::FromStr;

/// The smallest budget accepted: below it the fixed buffers (read blocks,
/// write buffers) are the whole of the memory anyway.
pub const MIN_BUDGET: u64 = 1 << 10;

/// The budget when the machine's memory cannot be read.
const FALLBACK: u64 = 1 << 30;

/// A memory budget in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget(pub u64);

impl MemoryBudget {
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// A quarter of the memory this process may use: the machine's
    /// (`/proc/meminfo`), or the cgroup's limit when lower; 1 GiB when
    /// neither can be read.
    pub fn default_for_machine() -> MemoryBudget {
        let total = [physical_memory(), cgroup_limit()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(FALLBACK * 4);
        MemoryBudget((total / 4).max(MIN_BUDGET))
    }
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if b >= size && b.is_multiple_of(size) {
                return write!(f, "{}{unit}", b / size);
            }
        }
        if b >= 1 << 20 {
            return write!(f, "{:.1}MiB", b as f64 / f64::from(1u32 << 20));
        }
        write!(f, "{b}B")
    }
}

impl FromStr for MemoryBudget {
    type Err = String;

    /// Digits, optionally with a fraction, then an optional unit: `B`;
    /// `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024, also written `K`, `M`,
    /// `G`, `T`); `KB`, `MB`, `GB`, `TB` (powers of 1000). Case does not
    /// matter; a space may separate number and unit.
    fn from_str(s: &str) -> Result<MemoryBudget, String> {
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let unit = unit.trim().to_ascii_lowercase();
        let bad = || {
            format!(
                "memory budget {s:?} is not a size: write a number with an optional unit, e.g. 512MiB, 2GiB, 1.5GB or 1073741824 (bytes)"
            )
        };
        let value: f64 = number.parse().map_err(|_| bad())?;
        let scale: u64 = match unit.as_str() {
            "" | "b" => 1,
            "k" | "kib" => 1 << 10,
            "m" | "mib" => 1 << 20,
            "g" | "gib" => 1 << 30,
            "t" | "tib" => 1 << 40,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            _ => return Err(bad()),
        };
        let bytes = value * scale as f64;
        if !bytes.is_finite() || bytes >= u64::MAX as f64 {
            return Err(format!("memory budget {s:?} is too large"));
        }
        let bytes = bytes as u64;
        if bytes < MIN_BUDGET {
            return Err(format!(
                "memory budget {s:?} is below the smallest one, 1KiB; give at least that (the run spills to disk whenever its data exceed the budget)"
            ));
        }
        Ok(MemoryBudget(bytes))
    }
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// The cgroup v2 memory limit of this process (`memory.max`), when set.
fn cgroup_limit() -> Option<u64> {
    let max = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok()?;
    max.trim().parse::<u64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<u64, String> {
        s.parse::<MemoryBudget>().map(MemoryBudget::bytes)
    }

    #[test]
    fn a_budget_takes_human_sizes_in_binary_and_decimal_units() {
        assert_eq!(parse("512MiB"), Ok(512 << 20));
        assert_eq!(parse("512 mib"), Ok(512 << 20));
        assert_eq!(parse("2G"), Ok(2 << 30));
        assert_eq!(parse("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse("300MB"), Ok(300_000_000));
        assert_eq!(parse("1073741824"), Ok(1 << 30));
        assert_eq!(parse("64k"), Ok(64 << 10));
    }

    #[test]
    fn a_budget_that_is_not_a_size_is_refused_with_an_example() {
        for bad in ["", "MiB", "12 apples", "-5MiB", "1.2.3G", "5XB"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("512MiB"), "{bad}: {e}");
        }
        assert!(parse("10").unwrap_err().contains("smallest"));
        assert!(parse("99999999999TiB").unwrap_err().contains("too large"));
    }

    #[test]
    fn the_default_budget_is_a_quarter_of_the_memory_and_shows_in_units() {
        let d = MemoryBudget::default_for_machine().bytes();
        if let Some(total) = physical_memory() {
            assert!(d <= total / 4, "{d} of {total}");
        }
        assert!(d >= MIN_BUDGET);
        assert_eq!(MemoryBudget(300 << 20).to_string(), "300MiB");
        assert_eq!(MemoryBudget(3 << 29).to_string(), "1536MiB");
        assert_eq!(MemoryBudget(2 << 30).to_string(), "2GiB");
        assert_eq!(MemoryBudget(1000).to_string(), "1000B");
    }
}
