//! convstats: customer-support conversation events → reporting metrics.
pub mod office_hours;
