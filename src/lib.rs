//! convstats: customer-support conversation events → reporting metrics.
pub mod r#gen;
pub mod office_hours;
